//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import VerityCore
import VerityTestSupport

/// Procedure 000, steps 2 and 3: nothing on file confirms the person, who sends a copy of an
/// identity document; a caseworker confirms it, or the request expires. The 14-day wait runs on
/// an injected clock.
@Suite("Recovery requests")
struct RecoveryRequestTests {
    final class Clock: Sendable {
        private let time = Mutex(Date(timeIntervalSince1970: 1_790_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(days: Double) { time.withLock { $0 += days * 24 * 3600 } }
    }

    static func setUp() throws -> (ServiceFixture, Clock) {
        let clock = Clock()
        return (try ServiceFixture(now: { clock.now }), clock)
    }

    @Test func aConfirmedDocumentIsAuditedWithItsReason() async throws {
        let (fixture, _) = try Self.setUp()
        let service = fixture.service
        let id = try await fixture.activeClient("recovery-1")
        let opened = try await service.openRecoveryRequest(for: id, context: .agent)
        #expect(opened.status(at: service.currentTime) == .awaitingDocument)
        #expect(try await service.openRecoveryRequest(for: id, context: .agent) == opened, "one request waits at a time")
        await #expect(throws: CredentialError.missing(field: "recoveryRequestId", message: "no recovery request \(opened.id) for subject someone-else")) {
            try await service.confirmRecoveryDocument(opened.id, of: try SubjectID("someone-else"), reason: "wrong case", context: .agent)
        }
        let confirmed = try await service.confirmRecoveryDocument(opened.id, of: id, reason: "licence copy matches the case file", context: .agent)
        #expect(confirmed.storedStatus == .documentConfirmed)
        await #expect(throws: CredentialError.failedPrecondition(reason: "REQUEST_CLOSED", message: "the document was already confirmed")) {
            try await service.confirmRecoveryDocument(opened.id, of: id, reason: "again", context: .agent)
        }
        let trail = try await service.auditEvents(for: id).filter { [.openRecovery, .confirmRecovery].contains($0.action) }
        #expect(trail.map(\.outcome) == ["AWAITING_DOCUMENT", "DOCUMENT_CONFIRMED"])
        #expect(trail.last?.facts.contains("reason: licence copy matches the case file") == true)
    }

    @Test func aRequestExpiresAfterItsWaitAndCannotBeConfirmed() async throws {
        let (fixture, clock) = try Self.setUp()
        let service = fixture.service
        let id = try await fixture.activeClient("recovery-2")
        let opened = try await service.openRecoveryRequest(for: id, context: .agent)
        clock.advance(days: 13.9)
        #expect(try await service.recoveryRequest(opened.id).status(at: service.currentTime) == .awaitingDocument)
        clock.advance(days: 0.2)
        #expect(try await service.recoveryRequest(opened.id).status(at: service.currentTime) == .expired)
        do {
            _ = try await service.confirmRecoveryDocument(opened.id, of: id, reason: "late copy", context: .agent)
            Issue.record("an expired request was confirmed")
        } catch let CredentialError.failedPrecondition(reason, _) {
            #expect(reason == "REQUEST_EXPIRED")
        }
        let next = try await service.openRecoveryRequest(for: id, context: .agent)
        #expect(next.id != opened.id, "an expired request makes room for a new one")
    }

    @Test func badRequestsChangeNothing() async throws {
        let (fixture, _) = try Self.setUp()
        let service = fixture.service
        await #expect(throws: CredentialError.missing(field: "recoveryRequestId", message: "no recovery request 00000000000000000000000000000000")) {
            try await service.recoveryRequest("00000000000000000000000000000000")
        }
        await #expect(throws: CredentialError.notFound(try SubjectID("nobody"))) {
            try await service.openRecoveryRequest(for: try SubjectID("nobody"), context: .agent)
        }
        let id = try await fixture.activeClient("recovery-3")
        let opened = try await service.openRecoveryRequest(for: id, context: .agent)
        await #expect(throws: CredentialError.invalidArgument(field: "reason", reason: "REQUIRED", message: "confirming a document needs a reason, for the audit trail")) {
            try await service.confirmRecoveryDocument(opened.id, of: id, reason: " ", context: .agent)
        }
        #expect(try await service.recoveryRequest(opened.id).storedStatus == .awaitingDocument)
    }
}
