// libFuzzer target: the DNS message decoder and encoder (DNSWire).
//
// The whole input is a DNS message as received over UDP (so seeds are wire-format messages). Checked:
// - DNSMessage(parsing:) either throws a DNSWireError or returns a message within its record bound;
// - a decoded message that can be encoded (names with \DDD escapes cannot, by design) decodes back to
//   itself, with and without name compression, and the compressed form is never longer;
// - the input read as a name: a query for it decodes to one question for the normalised name.
import DNSWire
import FuzzSupport

func checkMessage(_ bytes: [UInt8]) {
    let message: DNSMessage
    do throws(DNSWireError) {
        message = try DNSMessage(parsing: bytes)
    } catch {
        return
    }
    let records = message.questions.count + message.answers.count + message.authorities.count + message.additionals.count
    invariant(records <= DNSMessage.maximumRecordCount, "\(records) records decoded")
    _ = message.extendedResponseCode
    _ = message.optRecord

    var sizes: [Bool: Int] = [:]
    for compress in [true, false] {
        let wire: [UInt8]
        do throws(DNSWireError) {
            wire = try message.encoded(compress: compress)
        } catch {
            continue
        }
        sizes[compress] = wire.count
        do throws(DNSWireError) {
            let again = try DNSMessage(parsing: wire)
            invariant(again == message, "round trip (compress \(compress)):\n \(message)\n \(again)")
        } catch {
            invariant(false, "encoded message does not decode (\(error), compress \(compress)): \(show(wire))")
        }
    }
    if let compressed = sizes[true], let plain = sizes[false] {
        invariant(compressed <= plain, "compression made the message longer: \(compressed) > \(plain)")
    }
}

func checkQuery(_ bytes: [UInt8]) {
    guard bytes.count <= 300 else { return }
    let name = String(decoding: bytes, as: UTF8.self)
    let normalized: String
    do throws(DNSWireError) {
        normalized = try DNSMessage.normalizedName(name)
    } catch {
        return
    }
    do throws(DNSWireError) {
        let wire = try DNSMessage.query(id: 0x5EED, name: name, type: .mx)
        let message = try DNSMessage(parsing: wire)
        invariant(message.id == 0x5EED && message.questions == [DNSQuestion(name: normalized, type: .mx)],
                  "query for \(name) decodes as \(message)")
        invariant(message.optRecord != nil, "query without OPT record")
    } catch {
        invariant(false, "query for a valid name \(name) failed: \(error)")
    }
}

let testOneInput: FuzzTestOneInput = { data, size in
    let bytes = fuzzBytes(data, size)
    checkMessage(bytes)
    checkQuery(bytes)
    return 0
}

runLibFuzzer(testOneInput)
