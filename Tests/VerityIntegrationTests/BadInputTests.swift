//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityServer
import VerityTLS
import VerityTestSupport

/// Each kind of bad input gets its specified answer, and other connections keep being served.
@Suite("Bad input")
struct BadInputTests {
    /// Sends `bytes` on a fresh connection and expects one error frame with id 0, then a close.
    func expectViolation(_ bytes: [UInt8], code: Int, reason: String, on server: TestServer) async throws {
        let connection = try await server.connect(as: "agent")
        try await connection.send(bytes: bytes)
        try await connection.waitForClose()
        let frame = try #require(connection.frames.first)
        #expect(connection.frames.count == 1)
        #expect((frame["id"] as? NSNumber)?.intValue == 0)
        #expect(frame.code == code)
        #expect(frame.details?["reason"] as? String == reason)
        try await expectStillServing(server)
    }

    func expectStillServing(_ server: TestServer) async throws {
        let other = try await server.connect(as: "verifier")
        #expect(try await other.call("verity.v1.Health/Check").code == 0)
        await other.close()
    }

    @Test func protocolViolationsAreAnsweredOnceAndClose() async throws {
        let server = try await TestServer.start { $0.maximumFrameBytes = 4096 }
        try await expectViolation([0, 0, 0x10, 0x01], code: 8, reason: "FRAME_TOO_LARGE", on: server)
        try await expectViolation([0, 0, 0, 0], code: 3, reason: "EMPTY_FRAME", on: server)
        try await expectViolation(TestConnection.frame([0x7B, 0xFF, 0xFE, 0x7D]), code: 3, reason: "INVALID_UTF8", on: server)
        try await expectViolation(TestConnection.frame(Array("{\"id\": 1, ".utf8)), code: 3, reason: "INVALID_JSON", on: server)
        try await expectViolation(TestConnection.frame(Array("[1, 2, 3]".utf8)), code: 3, reason: "NOT_AN_OBJECT", on: server)
        try await expectViolation(TestConnection.frame(Array("{\"method\": \"verity.v1.Health/Check\"}".utf8)), code: 3, reason: "INVALID_ID", on: server)
        try await expectViolation(TestConnection.frame(Array("{\"id\": \"7\", \"method\": \"x\"}".utf8)), code: 3, reason: "INVALID_ID", on: server)
        try await expectViolation(TestConnection.frame(Array("{\"id\": 9007199254740992, \"method\": \"x\"}".utf8)), code: 3, reason: "INVALID_ID", on: server)
        try await server.stop()
    }

    @Test func aDuplicateInFlightIDIsAViolation() async throws {
        let server = try await TestServer.start { $0.keyDerivation = .scrypt(logN: 14, r: 8, p: 1) }
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "dup", "kind": "CLIENT"])
        let slow = TestConnection.request(id: 5, method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "dup", "pin": "4829157"])
        // Both frames in one write, so the second arrives while the first is surely in flight.
        try await agent.send(bytes: TestConnection.frame(Array(slow.utf8)) + TestConnection.frame(Array(slow.utf8)))
        try await agent.waitForClose()
        #expect(agent.frames.contains { ($0["id"] as? NSNumber)?.intValue == 0 && $0.details?["reason"] as? String == "DUPLICATE_ID" })
        try await expectStillServing(server)
        try await server.stop()
    }

    @Test func badRequestsAreAnsweredWithTheirIDAndTheConnectionStays() async throws {
        let server = try await TestServer.start()
        let agent = try await server.connect(as: "agent")
        let missing = try await agent.call("verity.v1.Subjects/Enroll", ["kind": "CLIENT"])
        #expect(missing.code == 3)
        #expect(missing.details?["field"] as? String == "subjectId")
        #expect(missing.details?["reason"] as? String == "REQUIRED")
        let wrongType = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": 42, "kind": "CLIENT"])
        #expect(wrongType.details?["field"] as? String == "subjectId")
        #expect(wrongType.details?["reason"] as? String == "WRONG_TYPE")
        let badEnum = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "e-1", "kind": "ROBOT"])
        #expect(badEnum.details?["field"] as? String == "kind")
        #expect(badEnum.details?["reason"] as? String == "INVALID_VALUE")
        let badPhone = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "e-1", "kind": "CLIENT", "contacts": ["phones": [["number": "602 555 0100", "type": "PAGER"]]]])
        #expect(badPhone.details?["field"] as? String == "contacts.phones[0].type")
        let unknown = try await agent.call("verity.v1.Subjects/Teleport", [:])
        #expect(unknown.code == 12)
        let noMethod = try await agent.call("", [:], extra: ["method": 7])
        #expect(noMethod.details?["field"] as? String == "method")
        let badTimeout = try await agent.call("verity.v1.Health/Check", [:], extra: ["timeoutMs": -5])
        #expect(badTimeout.details?["field"] as? String == "timeoutMs")
        let badMetadata = try await agent.call("verity.v1.Health/Check", [:], extra: ["metadata": ["actor": 12]])
        #expect(badMetadata.details?["field"] as? String == "metadata.actor")
        let policy = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "has space", "kind": "CLIENT"])
        #expect(policy.details?["reason"] as? String == "INVALID_SUBJECT_ID")
        #expect(try await agent.call("verity.v1.Health/Check").code == 0)
        #expect(!agent.isClosed)
        try await server.stop()
    }

    @Test func aNumericPINIsAWrongTypeAndNeverEchoed() async throws {
        let server = try await TestServer.start()
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "p-1", "kind": "CLIENT"])
        let numeric = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": "p-1", "pin": 8316492])
        #expect(numeric.details?["reason"] as? String == "WRONG_TYPE")
        let weak = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": "p-1", "pin": "7654321"])
        #expect(weak.details?["reason"] as? String == "SEQUENCE")
        let text = String(decoding: try JSONSerialization.data(withJSONObject: [numeric, weak]), as: UTF8.self)
        #expect(!text.contains("8316492") && !text.contains("7654321"))
        #expect(!server.logs.text.contains("8316492") && !server.logs.text.contains("7654321"))
        try await server.stop()
    }

    @Test func tenThousandPipelinedRequestsAreEachAnsweredOnce() async throws {
        let server = try await TestServer.start()
        let connection = try await server.connect(as: "verifier")
        var bytes: [UInt8] = []
        for id in 1...10_000 {
            bytes += TestConnection.frame(Array(TestConnection.request(id: Int64(id), method: "verity.v1.Health/Check").utf8))
        }
        try await connection.send(bytes: bytes)
        try await connection.waitForFrames(10_000, timeout: .seconds(120))
        let frames = connection.frames
        #expect(frames.count == 10_000)
        #expect(Set(frames.compactMap { ($0["id"] as? NSNumber)?.int64Value }).count == 10_000)
        // Beyond the in-flight limit a request is refused at once rather than queued.
        #expect(frames.allSatisfy { $0.code == 0 || ($0.code == 8 && $0.details?["reason"] as? String == "TOO_MANY_IN_FLIGHT") })
        #expect(frames.contains { $0.code == 0 })
        #expect(try await connection.call("verity.v1.Health/Check").code == 0)
        try await server.stop()
    }

    /// Connects, tries one request, and expects the connection to be closed without an answer.
    func expectRefused(_ connection: TestConnection) async throws {
        // With TLS 1.3 the client may finish its side before the server refuses its certificate.
        try? await connection.send(json: TestConnection.request(id: 1, method: "verity.v1.Health/Check"))
        try await connection.waitForClose()
        #expect(connection.frames.isEmpty)
    }

    @Test func refusedHandshakes() async throws {
        let server = try await TestServer.start()
        try await expectRefused(try await server.connect(as: nil))
        let foreignPKI = try DevelopmentSetup.ensureForeign(in: server.directory)
        try await expectRefused(try await server.connect(as: "admin", issuer: foreignPKI))
        try await expectRefused(try await server.connect(as: "admin", alpn: ["h2"]))
        let noALPN = try await server.connect(as: "admin", alpn: [])
        #expect(try await noALPN.call("verity.v1.Health/Check").code == 0)
        try await expectStillServing(server)
        try await server.stop()
    }

    @Test func plaintextOnTheTLSPortIsClosed() async throws {
        let server = try await TestServer.start()
        let socket = try ChildProcess(command: "python3", ["-c", """
            import socket, struct, json
            s = socket.create_connection(("127.0.0.1", \(server.port)))
            body = json.dumps({"id": 1, "method": "verity.v1.Health/Check"}).encode()
            s.sendall(struct.pack(">I", len(body)) + body)
            s.settimeout(10)
            data = s.recv(65536)
            print("closed" if not data or data[0] == 0x15 else "answered", flush=True)
            """])
        try await socket.waitForOutput(containing: "closed")
        try await expectStillServing(server)
        try await server.stop()
    }

    @Test func halfAFrameThatStallsIsClosedAfterTheReadTimeout() async throws {
        let server = try await TestServer.start { $0.readTimeout = .milliseconds(300) }
        let staller = try await server.connect(as: "agent")
        try await staller.send(bytes: [0, 0, 0, 50] + Array("{\"id\": 1".utf8))
        try await staller.waitForClose(timeout: .seconds(10))
        #expect(staller.frames.isEmpty)
        try await expectStillServing(server)
        try await server.stop()
    }

    @Test func aFrameTricklingInSlowerThanTheReadTimeoutIsClosed() async throws {
        let server = try await TestServer.start { $0.readTimeout = .milliseconds(500) }
        let trickler = try await server.connect(as: "agent")
        try await trickler.send(bytes: [0, 0, 0, 60])
        // A byte every 100 ms keeps the connection busy but never finishes the frame.
        for byte in Array("{\"id\": 1, \"method\": \"verity.v1.Health/Check\"".utf8) {
            if trickler.isClosed { break }
            try? await trickler.send(bytes: [byte])
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(trickler.isClosed)
        #expect(trickler.frames.isEmpty)
        try await server.stop()
    }

    @Test func aFrameCutOffByTheConnectionEndIsDroppedQuietly() async throws {
        let server = try await TestServer.start()
        let cut = try await server.connect(as: "agent")
        try await cut.send(bytes: [0, 0, 0, 50] + Array("{\"id\": 1".utf8))
        await cut.close()
        try await expectStillServing(server)
        try await server.stop()
    }

    @Test func idleConnectionsAreClosed() async throws {
        let server = try await TestServer.start { $0.idleTimeout = .milliseconds(300) }
        let idle = try await server.connect(as: "agent")
        try await idle.waitForClose(timeout: .seconds(10))
        #expect(idle.frames.isEmpty)
        try await server.stop()
    }

    @Test func theConnectionLimitRefusesTheExtraConnection() async throws {
        let server = try await TestServer.start { $0.maximumConnections = 2 }
        let first = try await server.connect(as: "agent")
        let second = try await server.connect(as: "agent")
        #expect(try await first.call("verity.v1.Health/Check").code == 0)
        #expect(try await second.call("verity.v1.Health/Check").code == 0)
        let third = try await server.connect(as: "agent")
        try await third.waitForClose()
        await first.close()
        try await waitUntil { (try? await server.connect(as: "agent").call("verity.v1.Health/Check").code) == 0 }
        try await server.stop()
    }

    /// One job held at the gate, one waiting: the third and fourth are refused, whatever the timing.
    @Test func aFullHashingQueueAnswersResourceExhausted() async throws {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) }) {
            $0.hashingConcurrency = 1
            $0.hashingQueueLimit = 1
        }
        let agent = try await server.connect(as: "agent")
        for id in 1...4 { _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "q-\(id)", "kind": "CLIENT"]) }
        var bytes: [UInt8] = []
        for id in 1...4 {
            bytes += TestConnection.frame(Array(TestConnection.request(id: Int64(id), method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "q-\(id)", "pin": "4829157"]).utf8))
        }
        try await agent.send(bytes: bytes)
        try await waitUntil { agent.frames.filter { $0.code == 8 }.count == 2 }
        // The admitted job reaches the gate in its own time; nothing else can pass it.
        try await waitUntil { gate.value.waitingJobs == 1 }
        gate.value.openGate()
        let answers = try await (1...4).asyncMap { try await agent.response(id: Int64($0)) }
        #expect(answers.filter { $0.code == 0 }.count == 2)
        #expect(answers.filter { $0.code == 8 && $0.details?["reason"] as? String == "HASHING_QUEUE_FULL" }.count == 2)
        try await server.stop()
    }

    /// Requests beyond the in-flight limit that arrive in bytes already read are refused, one by
    /// one, and the connection carries on.
    @Test func theInFlightLimitRefusesWhatItMust() async throws {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) }) {
            $0.hashingConcurrency = 1
            $0.maximumInFlightPerConnection = 2
        }
        let agent = try await server.connect(as: "agent")
        for id in 1...6 { _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "f-\(id)", "kind": "CLIENT"]) }
        var bytes: [UInt8] = []
        for id in 1...6 {
            bytes += TestConnection.frame(Array(TestConnection.request(id: Int64(id), method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "f-\(id)", "pin": "4829157"]).utf8))
        }
        try await agent.send(bytes: bytes)
        try await waitUntil { agent.frames.filter { $0.details?["reason"] as? String == "TOO_MANY_IN_FLIGHT" }.count == 4 }
        gate.value.openGate()
        let answers = try await (1...6).asyncMap { try await agent.response(id: Int64($0)) }
        #expect(answers.filter { $0.code == 0 }.count == 2)
        #expect(try await agent.call("verity.v1.Health/Check").code == 0)
        try await server.stop()
    }

    @Test func workNotStartedBeforeItsDeadlineIsNotStarted() async throws {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) }) { $0.hashingConcurrency = 1 }
        let agent = try await server.connect(as: "agent")
        for id in 1...2 { _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "d-\(id)", "kind": "CLIENT"]) }
        let first = TestConnection.request(id: 1, method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "d-1", "pin": "4829157"])
        let second = TestConnection.request(id: 2, method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "d-2", "pin": "4829157"], extra: ["timeoutMs": 1])
        // The first holds the only place in the pool before the second arrives: the second's
        // deadline passes while it waits, and it never starts.
        try await agent.send(bytes: TestConnection.frame(Array(first.utf8)))
        try await waitUntil { gate.value.waitingJobs == 1 }
        try await agent.send(bytes: TestConnection.frame(Array(second.utf8)))
        #expect(try await agent.response(id: 2).code == 4)
        gate.value.openGate()
        #expect(try await agent.response(id: 1).code == 0)
        let status = try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": "d-2"])
        #expect(status.body?["hasPin"] as? Bool == false)
        try await server.stop()
    }
}

@Suite("Sizes counted in scalars and bytes")
struct SizeTests {
    @Test func metadataIsBoundedInScalarsAndBytesAndHoldsNoControlCharacters() async throws {
        let server = try await TestServer.start()
        let agent = try await server.connect(as: "agent")
        let heavy = "e" + String(repeating: "\u{301}", count: 20_000)
        let tooLong = try await agent.call("verity.v1.Health/Check", extra: ["metadata": ["actor": heavy]])
        #expect(tooLong.code == 3 && tooLong.details?["reason"] as? String == "TOO_LONG")
        let control = try await agent.call("verity.v1.Health/Check", extra: ["metadata": ["requestId": "a\nb"]])
        #expect(control.code == 3 && control.details?["reason"] as? String == "INVALID_VALUE")
        #expect(try await agent.call("verity.v1.Health/Check", extra: ["metadata": ["actor": String(repeating: "é", count: 256)]]).code == 0)
        try await server.stop()
    }

    /// An event too large for one frame on its own still lets the listing go on.
    @Test func anOversizedAuditEventStillGivesNextAfterSeq() async throws {
        let server = try await TestServer.start { $0.maximumFrameBytes = 2048 }
        let agent = try await server.connect(as: "agent")
        let admin = try await server.connect(as: "admin")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "o-1", "kind": "CLIENT"])
        _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": "o-1", "pin": "4829157"])
        for _ in 0..<3 {
            let verifier = try await server.connect(as: "verifier")
            _ = try await verifier.call("verity.v1.Credentials/Verify", ["subjectId": "o-1", "pin": "1111112", "channel": "PHONE"])
        }
        // A request just under the frame size makes an event just over it.
        let reason = String(repeating: "\u{1D538}", count: 470)
        #expect(try await admin.call("verity.v1.Admin/Unblock", ["subjectId": "o-1", "reason": reason]).code == 0)
        var after = 0
        var seen: [Int] = []
        for _ in 0..<20 {
            let page = try await admin.call("verity.v1.Admin/ListAudit", ["afterSeq": after, "limit": 1000])
            #expect(page.code == 0, "\(page)")
            let events = page.body?["events"] as? [[String: Any]] ?? []
            seen += events.compactMap { $0["seq"] as? Int }
            guard let next = page.body?["nextAfterSeq"] as? Int else { break }
            after = next
        }
        #expect(seen == Array(1...7))
        try await server.stop()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}


extension DevelopmentSetup {
    /// A second development PKI, from another CA, which the test server does not trust.
    static func ensureForeign(in directory: TemporaryDirectory) throws -> DevelopmentPKI {
        try DevelopmentPKI.ensure(in: directory.url.appendingPathComponent("foreign-pki"), roles: ["admin"])
    }
}

/// A value set once from a closure and read later, for a test to reach what it handed a server.
final class Box<Value: AnyObject>: @unchecked Sendable {
    private var stored: Value?
    private let lock = NSLock()

    func set(_ value: Value) -> Value {
        lock.withLock { stored = value }
        return value
    }

    var value: Value { lock.withLock { stored! } }
}
