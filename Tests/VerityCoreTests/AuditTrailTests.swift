//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
import VerityCore
import VerityTestSupport

@Suite("The audit trail")
struct AuditTrailTests {
    let fixture: ServiceFixture
    var service: CredentialService { fixture.service }

    init() throws {
        fixture = try ServiceFixture()
    }

    @Test func everyActIsRecordedWithWhoWhatAndHow() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        try await service.updateContacts(id, to: Contacts(emails: ["pat@example.org"]), context: .agent)
        _ = try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        for _ in 0..<3 { _ = try await service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        _ = try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        _ = try await service.unblock(id, reason: "identity confirmed in person", context: .admin)
        _ = try await service.applyDefaults(id, context: .agent)
        try await service.recordDenial(subject: id, context: CallContext(caller: "ivr-1", role: "ivr", method: "verity.v1.Admin/Unblock"))

        let events = try await service.auditEvents(for: id)
        #expect(events.map(\.action) == [
            .enroll, .setSecurityDetails, .updateContacts, .verify, .verify, .verify, .verify, .lock, .verify, .unblock,
            .applyDefaults, .permissionDenied,
        ])
        #expect(events.map(\.outcome) == [
            "OK", "OK", "OK", "VERIFIED", "MISMATCH", "MISMATCH", "MISMATCH", "BLOCKED", "BLOCKED", "OK", "OK", "PERMISSION_DENIED",
        ])
        #expect(events[3].facts == ["checked: PIN"])
        #expect(events[3].caller == "portal" && events[3].role == "verifier")
        #expect(events[1].actor == "agent:4711")
        #expect(events[7].facts == ["reason: 3 consecutive failed security checks"])
        #expect(events[9].facts == ["reason: identity confirmed in person"])
        #expect(events[11].method == "verity.v1.Admin/Unblock")
        #expect(events.map(\.seq) == Array(1...12))
        #expect(try await service.verifyAuditChain() == AuditChainReport(checked: 12, headSeq: 12, headHash: events[11].hash, firstBadSeq: nil))
    }

    @Test func pagesThroughTheTrail() async throws {
        let first = try await fixture.activeClient("a", pin: "4829157")
        _ = try await fixture.activeClient("b", pin: "4829157")
        let page = try await service.auditEvents(afterSeq: 1, limit: 2)
        #expect(page.map(\.seq) == [2, 3])
        #expect(try await service.auditEvents(for: first).map(\.seq) == [1, 2])
        await #expect(throws: CredentialError.self) { try await service.auditEvents(limit: 1001) }
        await #expect(throws: CredentialError.self) { try await service.auditEvents(limit: 0) }
    }

    @Test func anEmptyTrailChecksOut() async throws {
        let report = try await service.verifyAuditChain()
        #expect(report.ok && report.checked == 0 && report.headSeq == 0 && report.headHash == AuditChain.genesisHash)
    }

    @Test func theChainLinksEveryEventToTheOneBefore() async throws {
        _ = try await fixture.activeClient(pin: "4829157")
        let events = try await service.auditEvents()
        #expect(events[0].previousHash == AuditChain.genesisHash)
        #expect(events[1].previousHash == events[0].hash)
        #expect(events.allSatisfy { AuditChain.hash(of: $0) == $0.hash })
        var edited = events[1]
        edited.outcome = "FAILED"
        var verifier = AuditChainVerifier()
        let firstChecks = verifier.check(events[0])
        let editedChecks = verifier.check(edited)
        #expect(firstChecks && !editedChecks)
        #expect(verifier.report(firstBadSeq: edited.seq).headSeq == 1)
    }
}
