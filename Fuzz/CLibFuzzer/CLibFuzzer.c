// Header-only module: LLVMFuzzerRunDriver is defined by the libFuzzer runtime linked with
// -sanitize=fuzzer. SwiftPM needs one source file per C target.
#include "CLibFuzzer.h"
