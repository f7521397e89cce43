//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTestSupport

/// Runs the Python client's own test suite (`clients/python/tests`) against the verityd built
/// beside these tests, so that `swift test` is the one command that runs every test.
@Suite("The Python client")
struct PythonClientTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func itsTestSuitePassesAgainstTheBuiltServer() async throws {
        let verityd = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("verityd")
        let python = Self.repository.appendingPathComponent("clients/python")
        // The suite's own command, as clients/python/README.md gives it, run from its folder.
        let process = try ChildProcess(URL(fileURLWithPath: "/bin/sh"), [
            "-c", "cd \"$0\" && VERITYD=\"$1\" PYTHONDONTWRITEBYTECODE=1 exec python3 -m unittest discover -s tests",
            python.path, verityd.path,
        ])
        let exit = try await process.waitForExit(timeout: .seconds(300))
        let summary = process.text.split(separator: "\n").filter { $0.hasPrefix("Ran ") || $0.hasPrefix("OK") || $0.hasPrefix("FAILED") }
        print("Python client: \(summary.joined(separator: ", "))")
        #expect(exit.status == 0, "the Python client's tests failed:\n\(process.text.suffix(6000))")
        #expect(process.text.contains("OK"))
        // A test that skips itself proves nothing: here, with a server given, none may.
        #expect(!process.text.contains("skipped"), "Python tests were skipped:\n\(process.text.suffix(6000))")
    }
}
