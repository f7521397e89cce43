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

/// The built `verityctl` against a real development `verityd`, checking output and exit codes.
@Suite("verityctl")
struct VerityctlTests {
    static let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    /// A development verityd in its own directory, and a way to run verityctl next to it.
    final class Setup: Sendable {
        let directory: TemporaryDirectory
        let verityd: ChildProcess
        let port: Int

        init(printNotifications: Bool = true, devClock: Bool = false) async throws {
            directory = try TemporaryDirectory("verityctl")
            verityd = try ChildProcess(VerityctlTests.binaries.appendingPathComponent("verityd"), [
                "--listen", "127.0.0.1:0", "--data-dir", directory.path(".verity"), "--metrics-listen", "off", "--scrypt-log-n", "10",
            ] + (printNotifications ? ["--print-notifications"] : []) + (devClock ? ["--dev-clock"] : []))
            port = try await VeritydProcessTests.servingPort(of: verityd)
        }

        /// Runs verityctl in the directory holding `.verity`, as a newcomer would, feeding `input` to it.
        func verityctl(_ arguments: [String], input: String? = nil, role: String? = nil) async throws -> (status: Int32, output: String) {
            let connection = ["--server", "127.0.0.1:\(port)", "--data-dir", directory.path(".verity")] + (role.map { ["--role", $0] } ?? [])
            let process = try ChildProcess(VerityctlTests.binaries.appendingPathComponent("verityctl"), arguments + connection)
            if let input { process.send(input) }
            try process.closeInput()
            let exit = try await process.waitForExit()
            return (exit.status, process.text)
        }

        func stop() async throws {
            verityd.signal(SIGTERM)
            try await verityd.waitForExit()
        }
    }

    @Test func adminCommandsAndTheirExitCodes() async throws {
        let setup = try await Setup()
        #expect(try await setup.verityctl(["health"]) == (0, "SERVING\n"))
        let enrolled = try await setup.verityctl(["enroll", "pat-1", "--email", "pat@example.org", "--phone", "602-555-0100=CELL"])
        #expect(enrolled.status == 0 && enrolled.output.contains("NOT_SET_UP"))
        // Secrets come on standard input, never as arguments.
        #expect(try await setup.verityctl(["set-details", "pat-1", "--pin", "--password"], input: "5937261\nBlue kettle 1987\n").status == 0)
        let refused = try await setup.verityctl(["set-details", "pat-1", "--pin"], input: "1234567\n")
        #expect(refused.status == 64 && !refused.output.contains("1234567"))
        #expect(refused.output.contains("(field pin, reason KNOWN_DEFAULT)"))
        for _ in 0..<3 { #expect(try await setup.verityctl(["verify", "pat-1", "--pin"], input: "1111112\n", role: "verifier").status == 1) }
        let blocked = try await setup.verityctl(["status", "pat-1"])
        #expect(blocked.status == 0 && blocked.output.contains("BLOCKED") && blocked.output.contains("verityctl unblock pat-1"))
        let denied = try await setup.verityctl(["unblock", "pat-1", "--reason", "confirmed"], role: "ivr")
        #expect(denied.status == 1 && denied.output.contains("PERMISSION_DENIED"))
        #expect(try await setup.verityctl(["unblock", "pat-1", "--reason", "confirmed"]).status == 0)
        #expect(try await setup.verityctl(["verify", "pat-1", "--pin"], input: "5937261\n", role: "verifier").status == 0)
        let json = try await setup.verityctl(["status", "pat-1", "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(parsed?["state"] as? String == "ACTIVE")
        let pin = try await setup.verityctl(["ivr", "generate-pin", "pat-1", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(pin.output.utf8)) as? [String: Any])?["pin"] is String)
        let issued = try await setup.verityctl(["mfa", "issue", "pat-1", "--channel", "SMS", "--json"])
        let challenge = try #require((try JSONSerialization.jsonObject(with: Data(issued.output.utf8)) as? [String: Any])?["challengeId"] as? String)
        let code = try await Self.value("code", occurrence: 1, from: setup.verityd)
        #expect(try await setup.verityctl(["mfa", "verify", challenge, "--subject", "pat-1", "--purpose", "STEP_UP"], input: "\(code)\n").status == 0)
        let verified = try await setup.verityctl(["audit", "verify"])
        #expect(verified.output.contains("intact"))
        // The checkpoint it printed anchors the trail: kept, it catches a rewrite or a cut.
        let line = try #require(verified.output.split(separator: "\n").first { $0.hasPrefix("checkpoint") })
        let checkpoint = try #require(line.split(separator: " ").last.map(String.init))
        let (seq, hash) = (checkpoint.prefix { $0 != ":" }, checkpoint.drop { $0 != ":" }.dropFirst())
        #expect(try await setup.verityctl(["audit", "verify", "--expect-head", checkpoint]).status == 0)
        let rewritten = try await setup.verityctl(["audit", "verify", "--expect-head", "\(seq):\(String(repeating: "0", count: 64))"])
        #expect(rewritten.status == 1 && rewritten.output.contains("rewritten"))
        let cut = try await setup.verityctl(["audit", "verify", "--expect-head", "99999:\(hash)"])
        #expect(cut.status == 1 && cut.output.contains("cut back"))
        let audit = try await setup.verityctl(["audit", "list", "--subject", "pat-1"])
        #expect(audit.status == 0 && audit.output.contains("UNBLOCK") && !audit.output.contains("5937261"))
        try await setup.stop()
    }

    @Test func aSecretTypedAtTheTerminalIsNotEchoed() async throws {
        let setup = try await Setup()
        #expect(try await setup.verityctl(["enroll", "tty-1"]).status == 0)
        // verityctl on a real terminal (a pseudo-terminal from Python's pty module): it prompts,
        // turns echo off, and the PIN typed never shows in what the terminal displays.
        let verityctl = Self.binaries.appendingPathComponent("verityctl").path
        let terminal = try ChildProcess(command: "python3", ["-c", """
            import os, pty, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen = b""
            deadline = time.time() + 30
            while b"New PIN: " not in seen and time.time() < deadline:
                seen += os.read(fd, 1024)
            os.write(fd, b"5937261\\n")
            while time.time() < deadline:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            _, status = os.waitpid(pid, 0)
            print("EXIT", os.waitstatus_to_exitcode(status))
            print("ECHOED" if b"5937261" in seen else "HIDDEN")
            print(seen.decode(errors="replace"))
            """, verityctl, "set-details", "tty-1", "--pin", "--server", "127.0.0.1:\(setup.port)", "--data-dir", setup.directory.path(".verity")])
        try await terminal.waitForExit()
        #expect(terminal.text.contains("EXIT 0"), "\(terminal.text)")
        #expect(terminal.text.contains("HIDDEN"))
        #expect(terminal.text.contains("ACTIVE"))
        try await setup.stop()
    }

    @Test func usageErrorsAndAnUnreachableServer() async throws {
        let setup = try await Setup()
        #expect(try await setup.verityctl(["status"]).status == 64)
        #expect(try await setup.verityctl(["unblock", "pat-1", "--reason", " "]).status == 64)
        #expect(try await setup.verityctl(["set-details", "pat-1"]).status == 64)
        try await setup.stop()
        let unreachable = try await setup.verityctl(["health"])
        #expect(unreachable.status == 69)
        #expect(unreachable.output.contains("swift run verityd"))
        let elsewhere = try ChildProcess(Self.binaries.appendingPathComponent("verityctl"), ["health", "--data-dir", setup.directory.path("missing")])
        #expect(try await elsewhere.waitForExit().status == 64)
        #expect(elsewhere.text.contains("--cert"))
    }

    @Test func theDemoTellsTheWholeStory() async throws {
        let setup = try await Setup(devClock: true)
        let demo = try ChildProcess(Self.binaries.appendingPathComponent("verityctl"), ["demo", "--server", "127.0.0.1:\(setup.port)", "--data-dir", setup.directory.path(".verity")])
        // verityd prints each message; the demo asks for what it carries, in this order.
        for (index, (variable, occurrence)) in [("code", 1), ("token", 1), ("code", 2), ("code", 3), ("code", 4)].enumerated() {
            try await waitUntil(timeout: .seconds(60)) { demo.text.components(separatedBy: "Type the ").count > index + 1 }
            demo.send("\(try await Self.value(variable, occurrence: occurrence, from: setup.verityd))\n")
        }
        try demo.closeInput()
        let exit = try await demo.waitForExit()
        #expect(exit.status == 0, "\(demo.text)")
        for line in [
            "attempts left: 0", "BLOCKED", "state  ACTIVE", "IVR PIN", "VERIFIED", "PLACE_OF_BIRTH, CHILDREN", "password removed",
            "letter CMSL9800", "reminder CMSL9801", "subject ACTIVE, confirmed by SMS", "the new PIN works", "registered  state ACTIVE",
            "LINKED  AUTOMATIC", "QUEUED", "ORANGE PROCESSED, LOS ANGELES PROCESSED", "chain  intact",
        ] {
            #expect(demo.text.contains(line), "the demo did not show \(line)")
        }
        try await setup.stop()
    }

    /// Without a terminal and with nothing piped in, the demo still finishes: it takes the code
    /// from the outbox, as the agency's mail system would.
    @Test func theDemoFinishesWithoutATerminal() async throws {
        let setup = try await Setup(printNotifications: false)
        let output = try await setup.verityctl(["demo"])
        #expect(output.status == 0, "\(output.output)")
        #expect(output.output.contains("from the outbox"))
        #expect(output.output.contains("start verityd with --dev-clock"), "without the development clock the wait is skipped, not failed")
        #expect(output.output.contains("chain  intact"))
        try await setup.stop()
    }

    @Test func changeRequestsFromTheCommandLine() async throws {
        // verityd prints and acknowledges the letters, as a letter system would post them.
        let setup = try await Setup(printNotifications: true, devClock: true)
        let address = ["--address", "Ms A. Person; 1 High Street; Leeds; LS1 4AB; GB"]
        #expect(try await setup.verityctl(["enroll", "cr-cli-1"] + address).status == 0)
        #expect(try await setup.verityctl(["set-details", "cr-cli-1", "--pin"], input: "4829157\n").status == 0)
        let raised = try await setup.verityctl(["requests", "raise", "cr-cli-1", "--source", "LETTER", "--reported-by", "A. Person (PWC)", "--json"])
        #expect(raised.status == 0, "\(raised.output)")
        let id = try #require(raised.output.firstMatch(of: /"changeRequestId" : "([0-9a-f]{32})"/)?.1)
        let early = try await setup.verityctl(["requests", "accept", "cr-cli-1", String(id), "--pin"], input: "5930271\n")
        #expect(early.status == 1 && early.output.contains("FORM_NOT_RECEIVED"), "\(early.output)")
        #expect(try await setup.verityctl(["dev", "advance-clock", "--days", "7"]).output.contains("steps taken  1"))
        let listed = try await setup.verityctl(["requests", "list", "--status", "WAITING"])
        #expect(listed.output.contains(String(id)) && listed.output.contains("WAITING"), "\(listed.output)")
        try await setup.verityd.waitForOutput(containing: "CMSL9801")
        try await waitUntil { try await setup.verityctl(["requests", "receive", "cr-cli-1", String(id)]).status == 0 }
        let accepted = try await setup.verityctl(["requests", "accept", "cr-cli-1", String(id), "--pin"], input: "5930271\n")
        #expect(accepted.status == 0 && accepted.output.contains("ACCEPTED") && accepted.output.contains("LETTER"), "\(accepted.output)")
        #expect(!accepted.output.contains("5930271"), "the new PIN is never echoed")
        let shown = try await setup.verityctl(["requests", "show", String(id)])
        #expect(shown.output.contains("reminder sent"))
        try await setup.stop()
    }

    /// The `occurrence`-th value of `variable` the development console sink printed.
    static func value(_ variable: String, occurrence: Int, from verityd: ChildProcess) async throws -> String {
        let marker = "│   \(variable): "
        try await waitUntil(timeout: .seconds(30)) { verityd.text.components(separatedBy: marker).count > occurrence }
        let lines = verityd.text.split(separator: "\n").filter { $0.contains(marker) }
        return String(lines[occurrence - 1].split(separator: " ").last!)
    }
}
