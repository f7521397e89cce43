//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTLS
import VerityTestSupport

/// Two verityd processes on one PostgreSQL database, as behind a load balancer: the lock, the
/// audit chain and one-time codes hold across them, and one killed with SIGKILL mid-flood loses
/// nothing it acknowledged while the other goes on serving.
@Suite(
    "Two verityd instances on one PostgreSQL database",
    .enabled(if: PostgresTestCluster.isAvailable, Comment(rawValue: PostgresTestCluster.unavailableReason))
)
struct TwoInstanceTests {
    /// A verityd on the shared database; both share the data directory's keyring and development PKI.
    struct Instance {
        let process: ChildProcess
        let port: Int
        let pki: DevelopmentPKI

        init(data: String, store: String, options: [String] = []) async throws {
            process = try ChildProcess(VeritydProcessTests.verityd, [
                "--listen", "127.0.0.1:0", "--data-dir", data, "--store", store, "--metrics-listen", "off",
                "--scrypt-log-n", "10", "--log-level", "notice",
            ] + options)
            port = try await VeritydProcessTests.servingPort(of: process)
            pki = DevelopmentPKI(existingIn: URL(fileURLWithPath: data).appendingPathComponent("pki"))
        }

        func connect(as role: String) async throws -> TestConnection {
            try await TestConnection.open(port: port, pki: pki, role: role, issuer: nil, alpn: ["verity/1"])
        }

        func stop() async throws {
            process.signal(SIGTERM)
            _ = try await process.waitForExit(timeout: .seconds(60))
        }
    }

    /// Two instances on a new database; the first makes the keyring and PKI before the second starts.
    static func start(options: [String] = []) async throws -> (TemporaryDirectory, [Instance]) {
        let directory = try TemporaryDirectory("verityd-pair")
        let store = try await PostgresTestCluster.makeDatabase()
        let first = try await Instance(data: directory.path("data"), store: store, options: options)
        let second = try await Instance(data: directory.path("data"), store: store, options: options)
        return (directory, [first, second])
    }

    /// Pipelines `guesses` wrong PINs for each subject over `connections`, spread over the
    /// instances, and returns each answered request's subject and body.
    static func flood(
        _ subjects: [String], guesses: Int, over connections: [TestConnection]
    ) async throws -> [(connection: Int, id: Int64, subject: String)] {
        var sent: [(connection: Int, id: Int64, subject: String)] = []
        var batches = Array(repeating: [UInt8](), count: connections.count)
        var id: Int64 = 1000
        for guess in 0..<guesses {
            for subject in subjects {
                id += 1
                let connection = Int(id) % connections.count
                let pin = String(format: "%07d", 5_000_000 + guess)
                batches[connection] += TestConnection.frame(Array(TestConnection.request(
                    id: id, method: "verity.v1.Credentials/Verify", message: ["subjectId": subject, "pin": pin, "channel": "PHONE"]
                ).utf8))
                sent.append((connection, id, subject))
            }
        }
        for (index, batch) in batches.enumerated() { try await connections[index].send(bytes: batch) }
        return sent
    }

    static func enroll(_ subjects: [String], on instance: Instance) async throws {
        let agent = try await instance.connect(as: "agent")
        for subject in subjects {
            _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": subject, "kind": "CLIENT", "contacts": ["emails": ["\(subject)@example.org"]]])
            #expect(try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": subject, "pin": "4829157"]).code == 0)
        }
    }

    @Test func twoHundredWrongGuessesSplitAcrossTwoInstancesGetExactlyThreeEvaluated() async throws {
        let (directory, instances) = try await Self.start()
        defer { withExtendedLifetime(directory) {} }
        try await Self.enroll(["pair-1"], on: instances[0])
        var connections: [TestConnection] = []
        for index in 0..<10 { connections.append(try await instances[index % 2].connect(as: "verifier")) }
        let sent = try await Self.flood(["pair-1"], guesses: 200, over: connections)
        for (index, connection) in connections.enumerated() {
            try await connection.waitForFrames(sent.filter { $0.connection == index }.count)
        }
        let answers = sent.compactMap { connections[$0.connection].arrivedResponse(id: $0.id) }
        #expect(answers.count == 200)
        let outcomes = Dictionary(grouping: answers) { $0.code == 0 ? $0.body?["result"] as? String ?? "?" : $0.statusName ?? "?" }.mapValues(\.count)
        print("two instances, 200 wrong guesses: \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        #expect(answers.filter { $0.code == 0 && $0.body?["result"] as? String == "MISMATCH" }.count == 3)
        for instance in instances {
            let agent = try await instance.connect(as: "agent")
            #expect(try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": "pair-1"]).body?["state"] as? String == "BLOCKED")
            let admin = try await instance.connect(as: "admin")
            #expect(try await admin.call("verity.v1.Admin/VerifyAuditChain").body?["ok"] as? Bool == true)
            let events = try #require(try await admin.call("verity.v1.Admin/ListAudit", ["subjectId": "pair-1", "limit": 1000]).body?["events"] as? [[String: Any]])
            #expect(events.filter { $0["action"] as? String == "VERIFY" && $0["outcome"] as? String == "MISMATCH" }.count == 3)
        }
        for instance in instances { try await instance.stop() }
    }

    @Test func aCodeIssuedOnOneInstanceIsVerifiedOnTheOtherExactlyOnce() async throws {
        let (directory, instances) = try await Self.start()
        defer { withExtendedLifetime(directory) {} }
        try await Self.enroll(["pair-2"], on: instances[0])
        let portal = try await instances[0].connect(as: "verifier")
        let issued = try #require(try await portal.call(
            "verity.v1.Mfa/IssueCode", ["subjectId": "pair-2", "channel": "EMAIL", "purpose": "PASSWORD_RESET"]
        ).body)
        let mailer = try await instances[1].connect(as: "notifier")
        let leased = try #require(try await mailer.call("verity.v1.Notifications/Lease", ["max": 10, "leaseSeconds": 60]).body?["deliveries"] as? [[String: Any]])
        let code = try #require((leased.first?["variables"] as? [String: String])?["code"])
        let challengeID = try #require(issued["challengeId"] as? String)
        var verifiers: [TestConnection] = []
        for index in 0..<6 { verifiers.append(try await instances[index % 2].connect(as: "verifier")) }
        let results = try await withThrowingTaskGroup(of: String?.self) { group in
            for verifier in verifiers {
                group.addTask {
                    let verify = ["challengeId": challengeID, "code": code, "subjectId": "pair-2", "purpose": "PASSWORD_RESET"]
                    return try await verifier.call("verity.v1.Mfa/VerifyCode", verify).body?["result"] as? String
                }
            }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == "VERIFIED" }.count == 1, "\(results)")
        for instance in instances { try await instance.stop() }
    }

    /// Both instances' clocks moved past the seven-day wait of eight change requests at once:
    /// both take the due steps together, and each reminder is taken once.
    @Test func aTimedStepIsTakenOnceByTwoProcesses() async throws {
        let (directory, instances) = try await Self.start(options: ["--dev-clock"])
        defer { withExtendedLifetime(directory) {} }
        let subjects = (0..<8).map { "pair-wait-\($0)" }
        let agent = try await instances[0].connect(as: "agent")
        let verifier = try await instances[0].connect(as: "verifier")
        var requests: [String] = []
        for subject in subjects {
            let address: [String: Any] = ["lines": ["A. Person", "1 High Street", "Leeds"], "postalCode": "LS1 4AB"]
            _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": subject, "kind": "CLIENT", "contacts": ["postalAddresses": [address]]])
            _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": subject, "pin": "4829157"])
            for _ in 0..<3 { _ = try await verifier.call("verity.v1.Credentials/Verify", ["subjectId": subject, "pin": "1111112", "channel": "PHONE"]) }
            let raised = try await agent.call("verity.v1.ChangeRequests/Raise", [
                "subjectId": subject, "source": "PHONE", "reason": "BLOCKED_AFTER_FAILED_CHECKS", "reportedBy": "A. Person (PWC)",
            ])
            requests.append(try #require(raised.body?["changeRequestId"] as? String, "\(raised)"))
        }
        let mailer = try await instances[1].connect(as: "notifier")
        let forms = try await Self.leaseLetters(through: mailer)
        #expect(forms == ["CMSL9800": requests.count], "one form each")
        var admins: [TestConnection] = []
        for instance in instances { admins.append(try await instance.connect(as: "admin")) }
        let taken = try await withThrowingTaskGroup(of: Int.self) { group in
            for admin in admins {
                group.addTask {
                    let moved = try await admin.call("verity.v1.Development/AdvanceClock", ["seconds": 7 * 24 * 3600])
                    try #require(moved.code == 0, "\(moved)")
                    return moved.body?["stepsTaken"] as? Int ?? 0
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // A scheduler's own pass may take some first (every 30 s): those are not counted.
        #expect(taken.reduce(0, +) <= requests.count, "\(taken)")
        for request in requests {
            try await waitUntil(timeout: .seconds(60)) {
                try await agent.call("verity.v1.ChangeRequests/Get", ["changeRequestId": request]).body?["reminderSentAt"] != nil
            }
        }
        let reminders = try await Self.leaseLetters(through: mailer)
        print("two instances, one wait ended on both clocks: steps taken \(taken), letters \(reminders)")
        // A second reminder would withdraw the first's unsent letter: the trail is what counts steps.
        #expect(reminders == ["CMSL9801": requests.count], "one reminder letter each")
        for subject in subjects {
            let trail = try await admins[1].call("verity.v1.Admin/ListAudit", ["subjectId": subject, "limit": 1000])
            let events = try #require(trail.body?["events"] as? [[String: Any]], "\(trail)")
            #expect(events.filter { $0["action"] as? String == "REMIND_CHANGE_REQUEST" }.count == 1, "\(subject) was reminded once")
        }
        #expect(try await admins[1].call("verity.v1.Admin/VerifyAuditChain").body?["ok"] as? Bool == true)
        for instance in instances { try await instance.stop() }
    }

    /// Leases every letter waiting, however many leases that takes, and counts them by template.
    static func leaseLetters(through mailer: TestConnection) async throws -> [String: Int] {
        var templates: [String: Int] = [:]
        while true {
            let leased = try await mailer.call("verity.v1.Notifications/Lease", ["max": 100, "leaseSeconds": 60, "channels": ["LETTER"]])
            let letters = try #require(leased.body?["deliveries"] as? [[String: Any]], "\(leased)")
            if letters.isEmpty { return templates }
            for letter in letters { templates[letter["template"] as? String ?? "?", default: 0] += 1 }
        }
    }

    /// The database closed to connections and every connection ended: both instances answer
    /// UNAVAILABLE STORE_UNAVAILABLE, not a hang, and their health checks NOT_SERVING; once it
    /// takes connections again, both serve.
    @Test func aDatabaseThatGoesAwayIsUnavailableAndBothServeWhenItReturns() async throws {
        let directory = try TemporaryDirectory("verityd-pair")
        defer { withExtendedLifetime(directory) {} }
        // Each refused call waits out the connect timeout: the production default, not the tests'.
        let store = PostgresTestCluster.url(try await PostgresTestCluster.makeDatabase(), options: "connect_timeout=5")
        let name = PostgresTestCluster.databaseName(of: store)
        let instances = [
            try await Instance(data: directory.path("data"), store: store), try await Instance(data: directory.path("data"), store: store),
        ]
        try await Self.enroll(["pair-gone"], on: instances[0])
        var agents: [TestConnection] = []
        for instance in instances { agents.append(try await instance.connect(as: "agent")) }
        let base = try PostgresTestCluster.location.get()
        try await PostgresTestCluster.withSession(base) { admin in
            try await admin.run("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
            try await admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        }
        // A pooled connection whose end postgres-nio missed (over TLS, now and then) answers
        // only when the transaction timeout (45 s) gives it up: allow for that.
        for agent in agents {
            let refused = try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": "pair-gone"], timeout: .seconds(120))
            #expect(refused.code == 14 && refused.details?["reason"] as? String == "STORE_UNAVAILABLE", "\(refused)")
            let health = try await agent.call("verity.v1.Health/Check", timeout: .seconds(120))
            #expect(health.code == 0 && health.body?["status"] as? String == "NOT_SERVING", "a load balancer sends no one here: \(health)")
        }
        try await PostgresTestCluster.withSession(base) { admin in try await admin.run("ALTER DATABASE \(name) ALLOW_CONNECTIONS true") }
        for agent in agents {
            try await waitUntil(timeout: .seconds(60)) {
                try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": "pair-gone"]).body?["state"] as? String == "ACTIVE"
            }
            #expect(try await agent.call("verity.v1.Health/Check").body?["status"] as? String == "SERVING")
        }
        for instance in instances { try await instance.stop() }
    }

    /// One instance killed with SIGKILL while both take a flood: every failure it acknowledged is
    /// counted, and the other instance answers throughout and afterwards.
    @Test func killingOneInstanceUnderAFloodLosesNothingAcknowledged() async throws {
        let (directory, instances) = try await Self.start()
        defer { withExtendedLifetime(directory) {} }
        let subjects = (0..<10).map { "pair-kill-\($0)" }
        try await Self.enroll(subjects, on: instances[1])
        var opened: [TestConnection] = []
        for index in 0..<4 { opened.append(try await instances[index % 2].connect(as: "verifier")) }
        let connections = opened
        let sent = try await Self.flood(subjects, guesses: 2, over: connections)
        try await waitUntil { connections[0].frames.count + connections[2].frames.count >= 3 }
        instances[0].process.signal(SIGKILL)
        _ = try await instances[0].process.waitForExit()
        for index in [1, 3] { try await connections[index].waitForFrames(sent.filter { $0.connection == index }.count) }

        var acknowledged: [String: Int] = [:]
        for request in sent {
            guard let answer = connections[request.connection].arrivedResponse(id: request.id), answer.code == 0,
                  answer.body?["result"] as? String == "MISMATCH" else { continue }
            acknowledged[request.subject, default: 0] += 1
        }
        let agent = try await instances[1].connect(as: "agent")
        for subject in subjects {
            let counted = try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": subject]).body?["consecutiveFailures"] as? Int ?? -1
            #expect(counted >= acknowledged[subject, default: 0], "\(subject): \(acknowledged[subject, default: 0]) acknowledged, \(counted) counted")
        }
        #expect(acknowledged.values.reduce(0, +) > 0, "the flood was answered before the kill")
        print("two instances, one killed: \(acknowledged.values.reduce(0, +)) failures acknowledged of \(sent.count) guesses, all counted on the survivor")
        let admin = try await instances[1].connect(as: "admin")
        #expect(try await admin.call("verity.v1.Admin/VerifyAuditChain").body?["ok"] as? Bool == true)
        let verifier = try await instances[1].connect(as: "verifier")
        let fresh = try await verifier.call("verity.v1.Credentials/Verify", ["subjectId": subjects[0], "pin": "4829157", "channel": "PHONE"])
        #expect(fresh.code == 0, "the survivor serves: \(fresh)")
        try await instances[1].stop()
    }
}
