import Testing

/// The parent of every end-to-end suite. They run one test at a time: each test starts real `skjold`
/// processes (servers hashing passwords with scrypt), and several at once on a small machine would
/// blur the "listening within 5 s" measurement and slow the whole target down.
@Suite("end to end", .serialized)
enum EndToEnd {}
