import Testing
import SkjoldConfig

/// A document that touches every construct, used for truncation and mutation runs.
let tomlKitchenSink = #"""
    # Skjold test document ✓
    title = "TOML \"example\" \u00E9 \U0001F600"
    literal = 'C:\path'
    multi = """
    one \
      two"""
    raw = '''
    a''b'''
    int = [+99, -17, 1_000, 0xdead_beef, 0o755, 0b1101]
    flt = [1.5, -2e-3, 6.626E-34, inf, -nan]
    when = [1979-05-27T07:32:00.5-07:00, 1979-05-27 07:32:00, 1979-05-27, 07:32:00.25]
    dotted.key."quoted part" = true
    inline = { a = 1, b.c = [ {d = "e"} ], f = {} }

    [server]
    host = "mail.example.test"   # trailing comment
    ports = [
      25,  # smtp
      587,
    ]

    [[plan]]
    name = "a"
    [plan.limits]
    size = "10GB"
    [[plan]]
    name = "b"
    """#

@Suite("TOML robustness")
struct TOMLRobustnessTests {
    @Test func kitchenSinkParses() throws {
        let doc = try TOMLParser().parse(tomlKitchenSink)
        #expect(doc["multi"] == .string("one two"))
        #expect(doc["raw"] == .string("a''b"))
        #expect(doc["plan"]?.arrayValue?.count == 2)
        #expect(doc["server"]?.tableValue?["ports"] == .array([.integer(25), .integer(587)]))
    }

    /// Every prefix of the document either parses or fails with a positioned error; none crashes.
    @Test func truncatedAtEveryByte() {
        let bytes = Array(tomlKitchenSink.utf8)
        var parsed = 0
        var failed = 0
        for length in 0...bytes.count {
            do {
                _ = try TOMLParser().parse(bytes: Array(bytes[0..<length]))
                parsed += 1
            } catch {
                failed += 1
                #expect(error.line >= 1 && error.column >= 1)
                #expect(error.line <= 40)
            }
        }
        #expect(parsed > 0 && failed > 0)
        #expect(parsed + failed == bytes.count + 1)
    }

    /// Deterministic byte mutations (a small in-process fuzz run): no crash, errors are positioned.
    @Test func mutatedDocuments() {
        var rng = SplitMix64(seed: 0x5EED)
        let original = Array(tomlKitchenSink.utf8)
        let interesting: [UInt8] = Array(#"[]{}"'=.,#\ \n\r\t0123456789+-_eExobZz:"#.utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<1000 {
            var bytes = original
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let position = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[position] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: position)
                }
            }
            do {
                _ = try TOMLParser().parse(bytes: bytes)
            } catch {
                #expect(error.line >= 1 && error.column >= 1)
            }
        }
    }

    @Test func largeDocumentUnderTheLimitParses() throws {
        var text = ""
        for n in 0..<5_000 {
            text += "[section_\(n)]\nkey = \"value \(n)\"\nlist = [1, 2, 3]\n"
        }
        let doc = try TOMLParser().parse(text)
        #expect(doc.count == 5_000)
        #expect(doc["section_4999"]?.tableValue?.position(of: "key")?.line == 14_999)
    }

    /// Shapes that would take quadratic time in a naive reader (appending to an array of tables by
    /// copying, computing each key's column from the start of one long line).
    @Test func hostileShapesStayLinear() throws {
        let manyArrayTables = String(repeating: "[[a]]\n", count: 20_000)
        #expect(try TOMLParser().parse(manyArrayTables)["a"]?.arrayValue?.count == 20_000)

        let oneLongLine = "t = {" + (0..<10_000).map { "k\($0) = 1" }.joined(separator: ", ") + "}"
        let table = try #require(try TOMLParser().parse(oneLongLine)["t"]?.tableValue)
        #expect(table.count == 10_000)
        #expect(table.position(of: "k1")?.column == 14)

        let wideArray = "a = [" + String(repeating: "1,", count: 50_000) + "]"
        #expect(try TOMLParser().parse(wideArray)["a"]?.arrayValue?.count == 50_000)
    }

    @Test func longStringsAndComments() throws {
        let long = String(repeating: "x", count: 200_000)
        let doc = try TOMLParser().parse("a = \"\(long)\"\n# \(long)\nb = '''\(long)'''")
        #expect(doc["a"]?.stringValue?.count == 200_000)
        #expect(doc["b"]?.stringValue?.count == 200_000)
    }
}

/// A small deterministic PRNG so mutation runs are reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
