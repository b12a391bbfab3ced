#ifndef SKJOLD_CLIBFUZZER_H
#define SKJOLD_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver entry point (compiler-rt, lib/fuzzer/FuzzerInterface.h). It lives in the libFuzzer
// runtime that `-sanitize=fuzzer` links; it is declared here because SwiftPM renames an executable's own
// `main` (`<module>_main`, aliased to `main` at link time), so libFuzzer's `main` is never pulled in and
// the fuzz executable has to start the driver itself.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
