//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
import VerityCore
import VerityProtocol
import VerityTLS
import VerityTestSupport

@testable import VerityServer

/// The order of checks of `proto-spec/errors.md`, steps 6 to 12, as a table: each case is a
/// request whose first fault must be the one reported, run through the executor alone, without
/// sockets, on a store in a temporary directory and a hasher that hashes inline.
@Suite("The request executor's order of checks")
struct RequestExecutorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var role: String
        var method: String
        var message: String = "{}"
        var actor: String? = "agent:4711"
        var timeoutMs: Int64?
        /// How long ago the frame was read: a deadline counts from then.
        var age: TimeAmount = .zero
        var code: StatusCode
        var reason: String? = nil
        var field: String? = nil
        var testDescription: String { name }
    }

    static let enrolled = "case-7/PWC"

    static let cases: [Case] = [
        Case(name: "an unknown method", role: "agent", method: "verity.v1.Credentials/Reset", code: .unimplemented),
        Case(name: "a method the role may not call", role: "ivr", method: Method.unblock.path, code: .permissionDenied),
        Case(
            name: "permission comes before the message", role: "ivr", method: Method.unblock.path, message: #"{"subjectId": 5}"#,
            code: .permissionDenied
        ),
        Case(
            name: "the actor comes before the message", role: "agent", method: Method.setSecurityDetails.path, message: #"{"subjectId": 5}"#,
            actor: nil, code: .invalidArgument, reason: "REQUIRED", field: "metadata.actor"
        ),
        Case(
            name: "a blank actor is no actor", role: "agent", method: Method.generatePin.path, message: #"{"subjectId": "case-7/PWC"}"#,
            actor: "  ", code: .invalidArgument, reason: "REQUIRED", field: "metadata.actor"
        ),
        Case(name: "a missing field", role: "verifier", method: Method.verify.path, message: #"{"channel": "PHONE", "pin": "4829157"}"#,
             code: .invalidArgument, reason: "REQUIRED", field: "subjectId"),
        Case(name: "a wrong type", role: "agent", method: Method.getStatus.path, message: #"{"subjectId": 7}"#,
             code: .invalidArgument, reason: "WRONG_TYPE", field: "subjectId"),
        Case(name: "an unknown enum name", role: "verifier", method: Method.verify.path,
             message: #"{"subjectId": "case-7/PWC", "channel": "FAX", "pin": "4829157"}"#, code: .invalidArgument, reason: "INVALID_VALUE", field: "channel"),
        Case(name: "a blank secret", role: "verifier", method: Method.verify.path,
             message: #"{"subjectId": "case-7/PWC", "channel": "PHONE", "pin": "   "}"#, code: .invalidArgument, reason: "EMPTY", field: "pin"),
        Case(name: "the message comes before the deadline", role: "agent", method: Method.getStatus.path, message: #"{"subjectId": 7}"#,
             timeoutMs: 10, age: .seconds(1), code: .invalidArgument, reason: "WRONG_TYPE", field: "subjectId"),
        Case(name: "a passed deadline, before the store", role: "agent", method: Method.getStatus.path, message: #"{"subjectId": "nobody/PWC"}"#,
             timeoutMs: 10, age: .seconds(1), code: .deadlineExceeded),
        Case(name: "a passed deadline, before hashing", role: "verifier", method: Method.verify.path,
             message: #"{"subjectId": "case-7/PWC", "channel": "PHONE", "pin": "1111112"}"#, timeoutMs: 10, age: .seconds(1), code: .deadlineExceeded),
        Case(name: "an unknown subject", role: "agent", method: Method.getStatus.path, message: #"{"subjectId": "nobody/PWC"}"#, code: .notFound, field: "subjectId"),
        Case(name: "a served call", role: "agent", method: Method.getStatus.path, message: #"{"subjectId": "case-7/PWC"}"#, code: .ok),
        Case(name: "health for every role", role: "notifier", method: Method.healthCheck.path, code: .ok),
    ]

    @Test(arguments: cases)
    func theFirstFaultIsReported(_ entry: Case) async throws {
        let fixture = try ServiceFixture()
        try await fixture.activeClient(Self.enrolled)
        let executor = Self.executor(fixture)
        let answer = try await Self.run(entry, on: executor)
        #expect(answer.status.code == entry.code.rawValue, "\(answer.status)")
        #expect(answer.status.details?["reason"]?.stringValue == entry.reason)
        #expect(answer.status.details?["field"]?.stringValue == entry.field)
        // Nothing before the work counts an attempt.
        if entry.code != .ok { #expect(try await fixture.service.status(of: SubjectID(Self.enrolled)).consecutiveFailures == 0) }
    }

    @Test func aDenialIsAuditedWithItsSubject() async throws {
        let fixture = try ServiceFixture()
        let executor = Self.executor(fixture)
        let denied = Case(name: "", role: "ivr", method: Method.unblock.path, message: #"{"subjectId": "case-9/PWC", "reason": "r"}"#, code: .permissionDenied)
        _ = try await Self.run(denied, on: executor)
        let events = try await fixture.service.auditEvents()
        #expect(events.map(\.action) == [.permissionDenied])
        #expect(events.first?.subjectID == "case-9/PWC")
    }

    @Test func aRefusalByAPolicyIsAuditedAndAMalformedMessageIsNot() async throws {
        let fixture = try ServiceFixture()
        let executor = Self.executor(fixture)
        let weak = Case(name: "", role: "agent", method: Method.setSecurityDetails.path, message: #"{"subjectId": "case-9/PWC", "pin": "1234"}"#, code: .invalidArgument)
        let malformed = Case(name: "", role: "agent", method: Method.setSecurityDetails.path, message: #"{"subjectId": 9}"#, code: .invalidArgument)
        #expect(try await Self.run(weak, on: executor).status.code == 3)
        #expect(try await Self.run(malformed, on: executor).status.code == 3)
        let events = try await fixture.service.auditEvents()
        #expect(events.map(\.action) == [.refused])
        #expect(events.first?.subjectID == "case-9/PWC")
    }

    /// A fallback check can lock a person out like a PIN check, so it is paced like one.
    @Test func fallbackChecksArePacedAsChecks() async throws {
        let fixture = try ServiceFixture()
        try await fixture.activeClient(Self.enrolled)
        let executor = Self.executor(fixture) { $0.checksPerMinutePerCaller = 1 }
        let check = Case(name: "", role: "agent", method: Method.checkFacts.path, message: #"{"subjectId": "case-7/PWC", "placeOfBirth": {"city": "Mesa", "state": "AZ"}}"#, code: .failedPrecondition)
        #expect(try await Self.run(check, on: executor).status.details?["reason"] == "NO_FACTS_ON_FILE")
        #expect(try await Self.run(check, on: executor).status.details?["reason"] == "CALLER_RATE_LIMITED")
    }

    @Test func anAnswerLargerThanAFrameIsRefusedWithItsReason() async throws {
        let fixture = try ServiceFixture()
        try await fixture.activeClient(Self.enrolled)
        let executor = Self.executor(fixture) { $0.maximumFrameBytes = 64 }
        let answer = try await Self.run(Case(name: "", role: "agent", method: Method.getStatus.path, message: #"{"subjectId": "case-7/PWC"}"#, code: .ok), on: executor)
        #expect(answer.status.code == StatusCode.resourceExhausted.rawValue)
        #expect(answer.status.details?["reason"] == "RESPONSE_TOO_LARGE")
    }

    @Test func theThirdFailureLocksAndIsCountedOnce() async throws {
        let fixture = try ServiceFixture()
        try await fixture.activeClient(Self.enrolled)
        let executor = Self.executor(fixture) { $0.lockAlarmThreshold = 1 }
        let wrong = Case(name: "", role: "verifier", method: Method.verify.path, message: #"{"subjectId": "case-7/PWC", "channel": "PHONE", "pin": "1111112"}"#, code: .ok)
        for _ in 1...4 { _ = try await Self.run(wrong, on: executor) }
        // With an alarm at every lock, the alarm's count is the count of locks.
        #expect(fixture.logs.text.components(separatedBy: "LOCK ALARM").count - 1 == 1)
    }

    // MARK: Helpers

    struct Answer: Decodable {
        var id: Int64
        var status: ResponseEnvelope<EmptyMessage>.StatusBody
    }

    static func executor(_ fixture: ServiceFixture, _ adjust: (inout ServerConfiguration) -> Void = { _ in }) -> RequestExecutor {
        var configuration = ServerConfiguration(certificateChainPath: "", privateKeyPath: "", clientCAPath: "", storePath: "", pepperKeyringPath: "")
        adjust(&configuration)
        let metrics = ServerMetrics()
        return RequestExecutor(
            service: fixture.service, pool: HashingPool(concurrency: 1, queueLimit: 4, metrics: metrics), configuration: configuration,
            metrics: metrics, logger: fixture.logs.logger()
        )
    }

    static func run(_ entry: Case, on executor: RequestExecutor) async throws -> Answer {
        var envelope = #"{"id": 5, "method": "\#(entry.method)", "message": \#(entry.message)"#
        if let actor = entry.actor { envelope += #", "metadata": {"actor": "\#(actor)"}"# }
        if let timeout = entry.timeoutMs { envelope += #", "timeoutMs": \#(timeout)"# }
        envelope += "}"
        let request = try RequestEnvelope.parse(ByteBuffer(string: envelope)).get()
        let caller = Caller(identity: PeerIdentity(commonName: "caller", organizationalUnit: entry.role))
        let body = await executor.respond(
            to: request, from: caller, role: try #require(caller.role), connection: ConnectionLiveness(), receivedAt: .now() - entry.age
        )
        return try JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
    }
}
