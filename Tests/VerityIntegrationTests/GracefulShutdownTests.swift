//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityCore
import VerityCrypto
import VerityStore
import VerityTLS
import VerityTestSupport

@Suite("verityd as a process")
struct VeritydProcessTests {
    static var verityd: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("verityd")
    }

    @Test func sigtermDuringLoadFinishesInFlightWorkRefusesNewWorkAndExitsZero() async throws {
        let directory = try TemporaryDirectory("verityd-process")
        let process = try ChildProcess(Self.verityd, [
            "--listen", "127.0.0.1:0", "--data-dir", directory.path("data"), "--metrics-listen", "off",
            "--hashing-threads", "1", "--scrypt-log-n", "15", "--grace-period", "60",
        ])
        let port = try await Self.servingPort(of: process)
        let pki = DevelopmentPKI(existingIn: directory.url.appendingPathComponent("data/pki"))
        let agent = try await TestConnection.open(port: port, pki: pki, role: "agent", issuer: nil, alpn: ["verity/1"])
        var load: [UInt8] = []
        for id in 1...24 {
            _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "load-\(id)", "kind": "CLIENT"])
            // A deadline that never binds: on a loaded machine the 24 hashes took over the default
            // 10 s, and the last ones, not yet started, were rightly refused DEADLINE_EXCEEDED.
            load += TestConnection.frame(Array(TestConnection.request(
                id: Int64(id), method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "load-\(id)", "pin": "4829157"],
                extra: ["timeoutMs": 60_000]
            ).utf8))
        }
        try await agent.send(bytes: load)
        // 24 hashes at 100 to 200 ms each on one thread: most are still in flight for seconds.
        try await waitUntil { agent.frames.count >= 25 }
        process.signal(SIGTERM)
        try await process.waitForOutput(containing: "shutting down")

        let refused = try await agent.call("verity.v1.Health/Check", id: 100)
        #expect(refused.code == 14, "verityd said:\n\(process.text)")
        #expect(refused.statusName == "UNAVAILABLE")
        for id in 1...24 {
            #expect(try await agent.response(id: Int64(id), timeout: .seconds(60)).code == 0, "request \(id) was not finished; verityd said:\n\(process.text)")
        }
        try await agent.waitForClose(timeout: .seconds(30))
        let exit = try await process.waitForExit(timeout: .seconds(60))
        #expect(exit.reason == .exit && exit.status == 0, "verityd said:\n\(process.text)")
        #expect(process.text.contains("stopped"), "verityd said:\n\(process.text)")
    }

    /// verityd holds the pepper: it must leave no core file and create nothing others can read.
    @Test func noCoreDumpsAndOwnerOnlyFiles() async throws {
        let directory = try TemporaryDirectory("verityd-hardening")
        // verityd inherits the limit: allow core files, so that only verityd's own setting can
        // forbid them; this process's own limit is restored at once (a crashing test process
        // would otherwise leave gigabytes of core file behind).
        var original = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &original)
        try #require(original.rlim_max > 0, "the hard limit forbids core files already")
        var allowing = original
        allowing.rlim_cur = original.rlim_max
        setrlimit(Int32(RLIMIT_CORE.rawValue), &allowing)
        let started = Result {
            try ChildProcess(Self.verityd, [
                "--listen", "127.0.0.1:0", "--data-dir", directory.path("data"), "--metrics-listen", "off", "--scrypt-log-n", "10",
            ])
        }
        setrlimit(Int32(RLIMIT_CORE.rawValue), &original)
        let process = try started.get()
        _ = try await Self.servingPort(of: process)
        let limits = try String(contentsOfFile: "/proc/\(process.pid)/limits", encoding: .utf8)
        let core = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        #expect(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
        for name in ["verity.sqlite", "verity.sqlite-wal", "pepper.json"] {
            let mode = try FileManager.default.attributesOfItem(atPath: directory.path("data/\(name)"))[.posixPermissions] as? Int
            #expect(mode.map { $0 & 0o077 } == 0, "\(name) has mode \(String(mode ?? 0, radix: 8))")
        }
        process.signal(SIGTERM)
        _ = try await process.waitForExit()
    }

    @Test func aDataDirectoryOthersCanWriteIsRefused() async throws {
        let directory = try TemporaryDirectory("verityd-open-dir")
        try FileManager.default.createDirectory(atPath: directory.path("data"), withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path("data"))
        let process = try ChildProcess(Self.verityd, ["--listen", "127.0.0.1:0", "--data-dir", directory.path("data"), "--metrics-listen", "off"])
        let exit = try await process.waitForExit()
        #expect(exit.reason == .exit && exit.status != 0)
        #expect(process.text.contains("chmod go-w"), "verityd said:\n\(process.text)")
    }

    /// A store with hashes under a pepper key the keyring lacks: every check would count as a
    /// failure, so verityd refuses to start and names the key.
    @Test func aKeyringMissingAKeyTheStoreUsesIsRefusedAtStart() async throws {
        let directory = try TemporaryDirectory("verityd-missing-key")
        let data = directory.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let old = try PepperKeyring.random(keyID: "retired-7")
        let store = try SQLiteCredentialStore(path: data + "/verity.sqlite", keyring: old)
        let service = try CredentialService(store: store, hasher: PepperedSecretHasher(keyring: old), keyring: old)
        let id = try SubjectID("kept-1")
        _ = try await service.enroll(id, kind: .client, context: CallContext(caller: "t", role: "agent", actor: "a"))
        _ = try await service.setSecurityDetails(id, SecurityFactors(pin: "4829157"), context: CallContext(caller: "t", role: "agent", actor: "a"))
        try store.close()
        try PepperKeyring.random(keyID: "dev-1").write(to: data + "/pepper.json")
        let process = try ChildProcess(Self.verityd, ["--listen", "127.0.0.1:0", "--data-dir", data, "--metrics-listen", "off"])
        let exit = try await process.waitForExit()
        #expect(exit.reason == .exit && exit.status != 0)
        #expect(process.text.contains("retired-7"), "verityd said:\n\(process.text)")
        let inventory = try ChildProcess(Self.verityd, ["--data-dir", data, "keys", "inventory"])
        #expect(try await inventory.waitForExit().status == 1)
        #expect(inventory.text.contains("retired-7\tsecret hash v=2 scrypt ln=15 r=8 p=1\t1"), "\(inventory.text)")
        #expect(inventory.text.contains("MISSING from the keyring: retired-7"))
    }

    /// A recovery request's wait outside 1 to 365 days is refused at start-up, with the rule.
    @Test(arguments: ["0", "400"])
    func aRecoveryRequestWaitOutOfRangeIsRefused(_ days: String) async throws {
        let directory = try TemporaryDirectory("verityd-recovery-days")
        let process = try ChildProcess(Self.verityd, [
            "--data-dir", directory.path("data"), "--metrics-listen", "off", "--listen", "127.0.0.1:0", "--recovery-request-days", days,
        ])
        let exit = try await process.waitForExit()
        #expect(exit.reason == .exit && exit.status != 0)
        #expect(process.text.contains("--recovery-request-days must be 1 to 365"), "\(process.text)")
    }

    /// A production setting without the certificates must fail, never fall back to development
    /// mode (a throw-away PKI, codes printed to the console).
    @Test(arguments: [
        ["--store", "prod.sqlite"], ["--pepper", "pepper.json"], ["--listen", "0.0.0.0:0"],
        ["--dev", "--cert", "c.pem", "--key", "k.pem", "--client-ca", "ca.pem"],
    ])
    func developmentModeIsNeverTakenByAccident(_ flags: [String]) async throws {
        let directory = try TemporaryDirectory("verityd-not-dev")
        var arguments = ["--data-dir", directory.path("data"), "--metrics-listen", "off"] + flags
        if !flags.contains("--listen") { arguments += ["--listen", "127.0.0.1:0"] }
        let process = try ChildProcess(Self.verityd, arguments)
        let exit = try await process.waitForExit()
        #expect(exit.reason == .exit && exit.status != 0, "verityd \(flags) said:\n\(process.text)")
        #expect(!process.text.contains("] serving"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("data/pki/ca.pem")))
    }

    /// A production PostgreSQL store on another machine must verify its server: otherwise whoever
    /// sits in between reads the password and rewrites failure counts.
    @Test(arguments: ["", "?sslmode=prefer", "?sslmode=require", "?sslmode=verify-ca"])
    func aRemoteDatabaseMustBeVerified(_ options: String) async throws {
        let directory = try TemporaryDirectory("verityd-remote-db")
        let process = try ChildProcess(Self.verityd, [
            "--data-dir", directory.path("data"), "--metrics-listen", "off", "--listen", "127.0.0.1:0",
            "--cert", "c.pem", "--key", "k.pem", "--client-ca", "ca.pem", "--pepper", "pepper.json",
            "--store", "postgres://verity@db.example.org/verity\(options)",
        ])
        let exit = try await process.waitForExit()
        #expect(exit.reason == .exit && exit.status != 0, "\(process.text)")
        #expect(process.text.contains("verify-full"), "\(process.text)")
    }

    /// One-time codes reach the console only when development mode is asked to print them.
    @Test func theConsoleSinkIsOffUnlessAskedFor() async throws {
        let directory = try TemporaryDirectory("verityd-no-sink")
        let process = try ChildProcess(Self.verityd, ["--listen", "127.0.0.1:0", "--data-dir", directory.path("data"), "--metrics-listen", "off"])
        let port = try await Self.servingPort(of: process)
        let pki = DevelopmentPKI(existingIn: directory.url.appendingPathComponent("data/pki"))
        let agent = try await TestConnection.open(port: port, pki: pki, role: "agent", issuer: nil, alpn: ["verity/1"])
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "s-1", "kind": "CLIENT", "contacts": ["emails": ["pat@example.org"]]])
        #expect(try await agent.call("verity.v1.Mfa/IssueCode", ["subjectId": "s-1", "channel": "EMAIL", "purpose": "STEP_UP"]).code == 0)
        let notifier = try await TestConnection.open(port: port, pki: pki, role: "notifier", issuer: nil, alpn: ["verity/1"])
        let leased = try await notifier.call("verity.v1.Notifications/Lease", ["max": 10, "leaseSeconds": 30])
        #expect((leased.body?["deliveries"] as? [Any])?.count == 1, "the delivery was taken by a console sink")
        #expect(!process.text.contains("CONSOLE SINK"))
        process.signal(SIGTERM)
        _ = try await process.waitForExit()
    }

    /// Settings from a JSON file and from a directory of secret files, as a container platform
    /// mounts them, beneath flags and the environment.
    @Test func settingsComeFromAFileAndASecretsDirectoryToo() async throws {
        let directory = try TemporaryDirectory("verityd-config")
        let secrets = directory.path("secrets")
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        try "\(directory.path("data"))\n".write(toFile: secrets + "/data-dir", atomically: true, encoding: .utf8)
        let file = directory.path("verityd.json")
        try #"{"listen": "127.0.0.1:0", "metrics": {"listen": "off"}, "scrypt": {"log": {"n": 10}}, "max": {"frame": {"bytes": 4096}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let process = try ChildProcess(Self.verityd, ["--config", file, "--secrets-dir", secrets, "--max-frame-bytes", "8192"])
        let port = try await Self.servingPort(of: process)
        #expect(FileManager.default.fileExists(atPath: directory.path("data/pki/ca.pem")), "the data directory came from the secrets directory")
        let pki = DevelopmentPKI(existingIn: directory.url.appendingPathComponent("data/pki"))
        let agent = try await TestConnection.open(port: port, pki: pki, role: "agent", issuer: nil, alpn: ["verity/1"])
        // The flag (8192) beats the file (4096): a 6000-byte frame is within the limit.
        let big = try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": String(repeating: "s", count: 5_800)])
        #expect(big.details?["reason"] as? String != "FRAME_TOO_LARGE")
        process.signal(SIGTERM)
        _ = try await process.waitForExit()

        try #"{"max": {"frame": {"bytes": "lots"}}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try ChildProcess(Self.verityd, ["--config", file, "--data-dir", directory.path("data"), "--listen", "127.0.0.1:0"])
        #expect(try await refused.waitForExit().status != 0)
        #expect(refused.text.contains("max.frame.bytes"), "\(refused.text)")
    }

    /// Waits for verityd's "serving" log line and reads the port it bound.
    static func servingPort(of process: ChildProcess) async throws -> Int {
        let output = try await process.waitForOutput(containing: "] serving")
        let line = try #require(output.split(separator: "\n").first { $0.hasSuffix("] serving") })
        let match = try #require(line.firstMatch(of: #/127\.0\.0\.1:(\d+) /#))
        return try #require(Int(match.1))
    }

    @Test func metricsAreServedForPrometheusOnTheirOwnPort() async throws {
        let directory = try TemporaryDirectory("verityd-metrics")
        let process = try ChildProcess(Self.verityd, ["--listen", "127.0.0.1:0", "--data-dir", directory.path("data"), "--metrics-listen", "127.0.0.1:0"])
        let port = try await Self.servingPort(of: process)
        let output = try await process.waitForOutput(containing: "] metrics")
        let metricsLine = try #require(output.split(separator: "\n").first { $0.hasSuffix("] metrics") })
        let metricsURL = try #require(metricsLine.firstMatch(of: #/(http://127\.0\.0\.1:\d+/metrics)/#)).1
        let pki = DevelopmentPKI(existingIn: directory.url.appendingPathComponent("data/pki"))
        let ivr = try await TestConnection.open(port: port, pki: pki, role: "ivr", issuer: nil, alpn: ["verity/1"])
        #expect(try await ivr.call("verity.v1.Health/Check").code == 0)
        #expect(try await ivr.call("verity.v1.Admin/Unblock", ["subjectId": "x", "reason": "y"]).code == 7)
        // Caller-chosen method names: each is UNIMPLEMENTED, none becomes a label or a forged log line.
        for name in ["verity.v1.Nope/A", "x\n2026-11-25T00:00:00+0000 error verityd: forged", String(repeating: "m", count: 5000)] {
            #expect(try await ivr.call(name).code == 12)
        }
        let scrape = try ChildProcess(command: "python3", ["-c", "import urllib.request; print(urllib.request.urlopen('\(metricsURL)').read().decode())"])
        try await scrape.waitForExit()
        #expect(scrape.text.contains(#"verity_requests_total{method="verity.v1.Health/Check",status="OK"} 1"#))
        #expect(scrape.text.contains(#"verity_requests_total{method="verity.v1.Admin/Unblock",status="PERMISSION_DENIED"} 1"#))
        #expect(scrape.text.contains(#"verity_requests_total{method="unknown",status="UNIMPLEMENTED"} 3"#))
        #expect(!scrape.text.contains("Nope") && !scrape.text.contains("forged") && !scrape.text.contains("mmmm"))
        #expect(!process.text.contains("\nforged") && !process.text.contains("\n2026-11-25T00:00:00+0000 error"))
        #expect(!process.text.contains(String(repeating: "m", count: 200)))
        #expect(scrape.text.contains("verity_open_connections"))
        #expect(scrape.text.contains("verity_request_duration_seconds"))
        // The scheduler's first pass, at start-up, reports the caseworkers' backlog.
        try await waitUntil {
            let again = try ChildProcess(command: "python3", ["-c", "import urllib.request; print(urllib.request.urlopen('\(metricsURL)').read().decode())"])
            try await again.waitForExit()
            return again.text.contains("verity_change_requests_overdue 0") && again.text.contains("verity_link_requests_pending 0")
        }
        process.signal(SIGINT)
        #expect(try await process.waitForExit().status == 0)
    }

    @Test func helpDocumentsEveryFlag() async throws {
        let help = try ChildProcess(Self.verityd, ["--help"])
        #expect(try await help.waitForExit().status == 0)
        for flag in ["--listen", "--data-dir", "--cert", "--key", "--client-ca", "--store", "--pepper", "--kdf", "--max-frame-bytes",
                     "--max-connections", "--max-in-flight", "--handshake-timeout", "--read-timeout", "--idle-timeout",
                     "--hashing-threads", "--hashing-queue", "--grace-period", "--metrics-listen", "VERITY_TLS_CERT"] {
            #expect(help.text.contains(flag), "--help does not mention \(flag)")
        }
    }

    @Test func aPepperFileOthersCanReadStopsTheStart() async throws {
        let directory = try TemporaryDirectory("verityd-pepper")
        let setup = try ChildProcess(Self.verityd, ["--data-dir", directory.path("data"), "--listen", "127.0.0.1:0", "--metrics-listen", "off"])
        _ = try await Self.servingPort(of: setup)
        setup.signal(SIGTERM)
        #expect(try await setup.waitForExit().status == 0)
        chmod(directory.path("data/pepper.json"), 0o644)
        let refused = try ChildProcess(Self.verityd, ["--data-dir", directory.path("data"), "--listen", "127.0.0.1:0", "--metrics-listen", "off"])
        #expect(try await refused.waitForExit().status != 0)
        #expect(refused.text.contains("chmod 600"))
    }
}
