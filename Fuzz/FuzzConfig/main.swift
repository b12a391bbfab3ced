// libFuzzer target: the configuration reader (SkjoldConfig) — TOML 1.0 parser and the typed decoder.
//
// The whole input is a configuration file (so the seed corpus is plain .toml files). Per input:
// - TOMLParser: a document it accepts, written back as TOML by `serialize` below, parses to an equal
//   document (NaN compared as equal to NaN); a refusal names a line and column >= 1;
// - SkjoldConfig.parse: the typed decoder on top; an accepted configuration passes validate(), and its
//   listen addresses print in a form that parses back;
// - the first line of the input as a command-line override (`key=value`), as a byte size, a listen
//   address and a key path, with their documented round trips.
import FuzzSupport
import SkjoldConfig

/// TOML text for a value: inline arrays and tables, basic strings, RFC 3339 dates.
func serialize(_ value: TOMLValue) -> String {
    switch value {
    case .string(let s): return TOMLKey.quoted(s)
    case .integer(let n): return String(n)
    case .float(let d):
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    case .boolean(let b): return b ? "true" : "false"
    case .dateTime(let dt): return dt.description
    case .array(let elements): return "[" + elements.map(serialize).joined(separator: ", ") + "]"
    case .table(let table):
        return "{" + table.map { TOMLKey.formatComponent($0.key) + " = " + serialize($0.entry.value) }.joined(separator: ", ") + "}"
    }
}

func serialize(document: TOMLTable) -> String {
    document.map { TOMLKey.formatComponent($0.key) + " = " + serialize($0.entry.value) + "\n" }.joined()
}

/// Structural equality where NaN equals NaN (TOMLValue's == follows IEEE 754).
func same(_ a: TOMLValue, _ b: TOMLValue) -> Bool {
    switch (a, b) {
    case (.float(let x), .float(let y)):
        return x == y || (x.isNaN && y.isNaN)
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy(same)
    case (.table(let x), .table(let y)):
        return same(x, y)
    default:
        return a == b
    }
}

func same(_ a: TOMLTable, _ b: TOMLTable) -> Bool {
    guard a.count == b.count else { return false }
    for (key, entry) in a {
        guard let other = b[key], same(entry.value, other) else { return false }
    }
    return true
}

func checkDocument(_ bytes: [UInt8]) {
    do throws(TOMLError) {
        let document = try TOMLParser().parse(bytes: bytes)
        let text = serialize(document: document)
        do throws(TOMLError) {
            let again = try TOMLParser().parse(text)
            invariant(same(document, again), "TOML round trip changed the document:\n\(text)")
        } catch {
            // Inline tables nest one level per table where headers did not; only the depth bound may differ.
            invariant(error.kind == .nestingTooDeep || error.kind == .inputTooLarge,
                      "TOML written back does not parse (\(error)):\n\(text)")
        }
    } catch {
        invariant(error.line >= 1 && error.column >= 1, "TOML error without a position: \(error)")
        _ = error.description
    }

    do throws(ConfigError) {
        let config = try SkjoldConfig.parse(bytes: bytes, file: "fuzz.toml")
        do throws(ConfigError) {
            try config.validate()
        } catch {
            invariant(false, "accepted configuration fails validate(): \(error)")
        }
        for (name, address) in config.listen.all {
            invariant((try? ListenAddress(parsing: address.description)) == address, "listen.\(name) \(address) does not round-trip")
        }
        invariant(config.limits.maxMessageSize >= 0, "negative max_message_size")
    } catch {
        _ = error.description
    }
}

func checkLine(_ line: String) {
    var config = SkjoldConfig.builtInDefault
    do throws(ConfigError) {
        try config.apply(override: line)
    } catch {
        _ = error.description
    }

    if let size = ByteSize.parse(line) {
        invariant(size >= 0, "negative byte size from \(line)")
        let formatted = ByteSize.format(size)
        // Exact forms ("10 GB", "4 KiB") must read back as the same number; rounded ones ("1.4 GiB") not.
        if !formatted.contains(".") {
            invariant(ByteSize.parse(formatted) == size, "ByteSize \(size) -> \(formatted) -> \(String(describing: ByteSize.parse(formatted)))")
        }
    }
    if let address = try? ListenAddress(parsing: line) {
        invariant((try? ListenAddress(parsing: address.description)) == address, "ListenAddress \(line) -> \(address)")
        invariant((0...65535).contains(address.port), "port \(address.port)")
    }
    if let path = try? TOMLParser().parseKey(line) {
        invariant(!path.isEmpty, "empty key path from \(line)")
        let formatted = TOMLKey.format(path)
        invariant((try? TOMLParser().parseKey(formatted)) == path, "key \(path) -> \(formatted) does not parse back")
    }
    if let value = try? TOMLParser().parseValue(line) {
        let text = serialize(value)
        guard let again = try? TOMLParser().parseValue(text) else {
            invariant(false, "value \(line) written as \(text) does not parse")
            return
        }
        invariant(same(value, again), "value round trip: \(line) -> \(text)")
    }
}

let testOneInput: FuzzTestOneInput = { data, size in
    let bytes = fuzzBytes(data, size)
    checkDocument(bytes)
    let firstLine = bytes.prefix { $0 != 10 }.prefix(512)
    checkLine(String(decoding: firstLine, as: UTF8.self))
    return 0
}

runLibFuzzer(testOneInput)
