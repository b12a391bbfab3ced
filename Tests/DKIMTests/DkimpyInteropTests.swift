import Foundation
import Testing
import _CryptoExtras

@testable import DKIM

/// dkimpy (Python `dkim`, with PyNaCl for Ed25519) as an independent DKIM implementation.
enum Dkimpy {
    /// nil when usable, otherwise why not.
    static let unavailableReason: String? = {
        guard let result = try? run(["-c", "import dkim, nacl"]) else { return "python3 could not be started" }
        let lastLine = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        return result.status == 0 ? nil : "python3 cannot import dkim and nacl (\(lastLine))"
    }()

    /// Whether the interoperability suite runs; prints why not, once.
    static let isAvailable: Bool = {
        if let reason = unavailableReason {
            print("DKIMTests: skipping dkimpy interoperability tests: \(reason)")
            return false
        }
        return true
    }()

    /// Verifies every DKIM-Signature of each message file; one "pass" or "fail: why" per signature.
    static let verifyScript = #"""
        import json, sys, dkim
        config = json.load(open(sys.argv[1]))
        records = {name.lower(): value.encode() for name, value in config["records"].items()}
        def dnsfunc(name, timeout=5):
            return records.get(name.decode().rstrip(".").lower())
        results = []
        for path in config["messages"]:
            message = open(path, "rb").read()
            verifier = dkim.DKIM(message)
            count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
            outcome = []
            for index in range(count):
                try:
                    outcome.append("pass" if verifier.verify(idx=index, dnsfunc=dnsfunc) else "fail")
                except Exception as error:
                    outcome.append("fail: %r" % error)
            results.append(outcome)
        print(json.dumps(results))
        """#

    /// Signs message files with dkimpy; prints the DKIM-Signature fields it makes, as JSON.
    static let signScript = #"""
        import base64, json, re, sys, dkim
        config = json.load(open(sys.argv[1]))
        header, body = config["canonicalization"].split("/")
        fields = []
        for job in config["jobs"]:
            message = open(job["message"], "rb").read()
            pem = open(job["pem"], "rb").read()
            if job["algorithm"] == "ed25519-sha256":
                der = base64.b64decode(b"".join(re.findall(rb"^[A-Za-z0-9+/=]+$", pem, re.M)))
                key = base64.b64encode(der[-32:])  # PKCS#8 ends with the 32-byte seed
            else:
                key = pem
            field = dkim.sign(message, job["selector"].encode(), job["domain"].encode(), key,
                              signature_algorithm=job["algorithm"].encode(),
                              canonicalize=(header.encode(), body.encode()),
                              include_headers=[b"from", b"to", b"subject", b"date"], length=job["length"])
            fields.append(field.decode())
        print(json.dumps(fields))
        """#

    static func verify(_ messages: [[UInt8]], records: [String: String] = TestKeys.records) throws -> [[String]] {
        let scratch = try ScratchDirectory()
        var paths: [String] = []
        for (index, message) in messages.enumerated() {
            let path = scratch.file("message-\(index).eml")
            try Data(message).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        return try verify(files: paths, records: records, scratch: scratch)
    }

    static func verify(files: [String], records: [String: String] = TestKeys.records, scratch: ScratchDirectory) throws -> [[String]] {
        let config = scratch.file("config.json")
        try JSONSerialization.data(withJSONObject: ["records": records, "messages": files]).write(to: URL(fileURLWithPath: config))
        let script = scratch.file("verify.py")
        try verifyScript.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try run([script, config])
        guard result.status == 0 else { throw DkimpyError(message: result.stderr) }
        return try JSONDecoder().decode([[String]].self, from: Data(result.stdout.utf8))
    }

    /// One dkimpy signature field per (message, signer), in order.
    static func sign(_ jobs: [(message: [UInt8], signer: DKIMSigner, length: Bool)], canonicalization: String) throws -> [String] {
        let scratch = try ScratchDirectory()
        var entries: [[String: Any]] = []
        for (index, job) in jobs.enumerated() {
            let messagePath = scratch.file("message-\(index).eml")
            try Data(job.message).write(to: URL(fileURLWithPath: messagePath))
            // PKCS#1 for RSA: older dkimpy reads only that form.
            let key = job.signer.key
            let pem = key.algorithm == .rsaSHA256
                ? try _RSA.Signing.PrivateKey(pemRepresentation: key.pemRepresentation).pemRepresentation
                : key.pemRepresentation
            let pemPath = scratch.file("key-\(index).pem")
            try pem.write(toFile: pemPath, atomically: true, encoding: .utf8)
            entries.append(["message": messagePath, "pem": pemPath, "algorithm": key.algorithm.rawValue,
                            "selector": job.signer.selector, "domain": job.signer.domain, "length": job.length])
        }
        let config = scratch.file("sign.json")
        try JSONSerialization.data(withJSONObject: ["canonicalization": canonicalization, "jobs": entries])
            .write(to: URL(fileURLWithPath: config))
        let script = scratch.file("sign.py")
        try signScript.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try run([script, config])
        guard result.status == 0 else { throw DkimpyError(message: result.stderr) }
        return try JSONDecoder().decode([String].self, from: Data(result.stdout.utf8))
    }

    struct DkimpyError: Error, CustomStringConvertible {
        let message: String
        var description: String { "dkimpy: \(message)" }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = try ScratchDirectory()
        let errorPath = scratch.file("stderr")
        try Data().write(to: URL(fileURLWithPath: errorPath))
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errorFile  // a file, so stderr can never fill a pipe while stdout is read
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errorFile.close()
        let errorData = (try? Data(contentsOf: URL(fileURLWithPath: errorPath))) ?? Data()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}

/// Messages that exercise what tends to differ between implementations.
enum InteropMessages {
    static let foldedHeaders = bytes("""
        From: "Folded, Name" <alice@example.com>\r
        To: bob@example.net,\r
          carol@example.net,\r
        \tdave@example.net\r
        Subject: A subject that is long enough\r
         to be folded   over\r
        \t\tthree lines\r
        Date: Wed, 01 Jan 2025 00:00:00 +0000\r
        Message-ID: <folded@example.com>\r
        \r
        Folded headers.\r

        """)

    static let repeatedHeaders = bytes("""
        Received: from a.example.net by b.example.net; Wed, 1 Jan 2025\r
        From: alice@example.com\r
        To: bob@example.net\r
        Cc: first@example.net\r
        Comments: one\r
        Cc: second@example.net\r
        Received: from c.example.net by a.example.net; Wed, 1 Jan 2025\r
        Subject: repeated\r
        Comments: two\r
        Cc: third@example.net\r
        \r
        Repeated headers.\r

        """)

    static let trailingWhitespace = bytes("""
        From: alice@example.com   \r
        To: bob@example.net\t\r
        Subject:   spaces   everywhere  \t \r
        \r
        line with trailing spaces   \r
        \tline with  inner \t runs\t\r
          \r
        last line\t \r

        """)

    static let emptyLinesAtEnd = bytes("""
        From: alice@example.com\r
        To: bob@example.net\r
        Subject: empty lines at the end\r
        \r
        text\r
        \r
        \r
        \r
         \r
        \r

        """)

    static let utf8Body = bytes("""
        From: Jörg <joerg@example.com>\r
        To: Zoë <zoe@example.net>\r
        Subject: Grüße — 日本語\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r
        Grüße aus Köln — ça va ?  \r
        日本語のテキスト\t\r
        Ελληνικά  και  emoji 🎉\r

        """)

    static let emptyBody = bytes("From: alice@example.com\r\nTo: bob@example.net\r\nSubject: nothing\r\n\r\n")

    static let all: [(String, [UInt8])] = [
        ("folded headers", foldedHeaders), ("repeated headers", repeatedHeaders),
        ("trailing whitespace", trailingWhitespace), ("empty lines at end", emptyLinesAtEnd),
        ("8-bit UTF-8 body", utf8Body), ("empty body", emptyBody), ("sample", sampleMessage),
    ]
}

@Suite(.serialized, .enabled(if: Dkimpy.isAvailable, "needs python3 with the dkim (dkimpy) and nacl (PyNaCl) modules"))
struct DkimpyInteropTests {
    @Test func dkimpyVerifiesOurSignatures() throws {
        let messages = try InteropMessages.all.map { try signed($0.1) }
        let results = try Dkimpy.verify(messages)
        for ((name, _), outcome) in zip(InteropMessages.all, results) {
            #expect(outcome == ["pass", "pass"], "\(name)")
        }
        // Our verifier agrees.
        for ((name, _), message) in zip(InteropMessages.all, messages) {
            #expect(DKIMVerifier.verify(message: message, dnsRecord: TestKeys.lookup).signatures.map(\.status) == [.pass, .pass], "\(name)")
        }
    }

    @Test func dkimpyRejectsTamperedMessages() throws {
        let message = try signed(sampleMessage)
        let text = String(decoding: message, as: UTF8.self)
        let tampered = [
            bytes(text.replacingOccurrences(of: "lunch?", with: "lunch!")),
            bytes(text.replacingOccurrences(of: "Subject: Lunch", with: "Subject: Dinner")),
            bytes("From: Mallory <boss@example.com>\r\n") + message,
        ]
        for outcome in try Dkimpy.verify(tampered) {
            #expect(outcome.count == 2 && outcome.allSatisfy { $0 != "pass" }, "\(outcome)")
        }
    }

    @Test func dkimpyVerifiesLineFeedInputAfterTransmission() throws {
        // Signed from bare-LF input; the SMTP client sends CRLF, which is what a receiver checks.
        let lf = String(decoding: InteropMessages.trailingWhitespace, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let signedLF = String(decoding: try signed(bytes(lf)), as: UTF8.self)
        let wire = signedLF.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try Dkimpy.verify([bytes(wire)]) == [["pass", "pass"]])
    }

    @Test func dkimpyVerifiesAFiveMegabyteMessageSignedFromAFile() throws {
        let scratch = try ScratchDirectory()
        let unsignedPath = scratch.file("large.eml")
        try Data().write(to: URL(fileURLWithPath: unsignedPath))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: unsignedPath))
        try handle.write(contentsOf: bytes("From: alice@example.com\r\nTo: bob@example.net\r\nSubject: large\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"))
        var random = SplitMix64(seed: 7)
        let words = ["alpha", "beta", "Grüße", "日本", "  ", "\t", "gamma ", "delta\t \t"]
        var written = 0
        var block: [UInt8] = []
        while written < 5 * 1024 * 1024 {
            var line = ""
            for _ in 0..<(1 + Int(random.next() % 14)) { line += words[Int(random.next() % UInt64(words.count))] + " " }
            block += bytes(line + (random.next() % 5 == 0 ? "   \r\n\r\n" : "\r\n"))
            if block.count >= 64 * 1024 {
                try handle.write(contentsOf: block)
                written += block.count
                block.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: block + bytes("\r\n\r\n \r\n"))
        try handle.close()

        var fields = ""
        for signer in TestKeys.signers {
            fields += try signer.signatureField(fileAt: unsignedPath, at: signingTime)
        }
        let signedPath = scratch.file("large-signed.eml")
        try Data().write(to: URL(fileURLWithPath: signedPath))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: signedPath))
        try output.write(contentsOf: bytes(fields))
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: unsignedPath))
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try output.write(contentsOf: chunk) }
        try input.close()
        try output.close()

        #expect(try Dkimpy.verify(files: [signedPath], scratch: scratch) == [["pass", "pass"]])
        let signedBytes = try Array(Data(contentsOf: URL(fileURLWithPath: signedPath)))
        #expect(signedBytes.count > 5 * 1024 * 1024)
        #expect(DKIMVerifier.verify(message: signedBytes, dnsRecord: TestKeys.lookup).signatures.map(\.status) == [.pass, .pass])
    }

    @Test(arguments: ["relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"])
    func ourVerifierAcceptsDkimpySignatures(canonicalization: String) throws {
        let jobs = InteropMessages.all.flatMap { name, message in
            TestKeys.signers.map { (message: message, signer: $0, length: name == "sample") }
        }
        let fields = try Dkimpy.sign(jobs, canonicalization: canonicalization)
        try #require(fields.count == jobs.count)
        for (index, (name, message)) in InteropMessages.all.enumerated() {
            let signatures = fields[2 * index] + fields[2 * index + 1]
            let result = DKIMVerifier.verify(message: bytes(signatures) + message, dnsRecord: TestKeys.lookup)
            #expect(result.signatures.map(\.status) == [.pass, .pass], "\(name), \(canonicalization): \(signatures)")
            if name == "sample" { #expect(signatures.contains("l=")) }
        }
    }
}
