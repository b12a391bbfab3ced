// Copied from Tests/SkjoldEndToEndTests/Support (a test target cannot import another one).
import Foundation

/// Finds the `skjold` executable this test run was built with. The test target depends on the
/// executable target, so SwiftPM builds it into the same products folder as the test bundle.
enum SkjoldBinary {
    /// The executable, or nil with the places that were searched.
    static let location: Result<URL, LocateError> = locate()

    struct LocateError: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "skjold executable not found (set SKJOLD_BINARY to override); searched: " + searched.joined(separator: ", ")
        }
    }

    static func url() throws -> URL {
        try location.get()
    }

    private static func locate() -> Result<URL, LocateError> {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["SKJOLD_BINARY"], !explicit.isEmpty {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        // The running test bundle (Linux: an executable `<pkg>PackageTests.xctest` in the products
        // folder; macOS: `<pkg>PackageTests.xctest/Contents/MacOS/<pkg>PackageTests`).
        var bundlePaths = [URL(fileURLWithPath: CommandLine.arguments.first ?? "")]
        bundlePaths.append(contentsOf: Bundle.allBundles.map(\.bundleURL))
        if let executable = Bundle.main.executableURL { bundlePaths.append(executable) }
        for path in bundlePaths where !path.path.isEmpty {
            var folder = path.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(folder.appendingPathComponent("skjold"))
                folder = folder.deletingLastPathComponent()
            }
        }
        // Fallback: the package root above this source file, default build folder.
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                candidates.append(folder.appendingPathComponent(".build/debug/skjold"))
                break
            }
            folder = folder.deletingLastPathComponent()
        }
        for candidate in candidates where isExecutableFile(candidate) {
            return .success(candidate)
        }
        return .failure(LocateError(searched: candidates.map(\.path)))
    }

    private static func isExecutableFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
        return FileManager.default.isExecutableFile(atPath: url.path)
    }
}

/// A fresh folder per test; the test removes it with `defer { scratch.remove() }`.
struct Scratch: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("skjold-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The data directory a test's server and CLI share.
    var data: URL { url.appendingPathComponent("data") }

    func file(_ name: String, contents: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
