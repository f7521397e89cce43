//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityStore
import GRDB
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
        let keys = AuditChainKeys(keyring: fixture.hasher.keyring)
        #expect(events.allSatisfy { $0.keyID == "k1" && AuditChain.hash(of: $0, key: keys.key(id: "k1")) == $0.hash })
        var edited = events[1]
        edited.outcome = "FAILED"
        var verifier = AuditChainVerifier(keys: keys)
        let firstChecks = verifier.check(events[0])
        let editedChecks = verifier.check(edited)
        #expect(firstChecks && !editedChecks)
        #expect(verifier.report(firstBadSeq: edited.seq).headSeq == 1)
    }

    /// Whoever can write the database but holds no pepper cannot rewrite the trail: neither by
    /// recomputing the hash without the key, nor by passing an event off as an unkeyed old one.
    @Test func aRewriteWithoutThePepperIsCaught() async throws {
        _ = try await fixture.activeClient(pin: "4829157")
        let events = try await service.auditEvents()
        let keys = AuditChainKeys(keyring: fixture.hasher.keyring)
        var rewritten = events[1]
        rewritten.outcome = "FAILED"
        rewritten.hash = AuditChain.hash(of: rewritten, key: AuditChainKeys(keyring: try .random()).currentKey)
        var verifier = AuditChainVerifier(keys: keys)
        #expect(verifier.check(events[0]) && !verifier.check(rewritten))

        var downgraded = events[1]
        downgraded.outcome = "FAILED"
        downgraded.keyID = nil
        downgraded.hash = AuditChain.hash(of: downgraded, key: nil)
        verifier = AuditChainVerifier(keys: keys)
        #expect(verifier.check(events[0]) && !verifier.check(downgraded))
    }

    @Test func checksOnUnknownSubjectsAndMaskedContactsAreRecorded() async throws {
        let ghost = try SubjectID("ghost")
        await #expect(throws: CredentialError.notFound(ghost)) {
            try await service.verify(ghost, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        }
        let id = try await fixture.activeClient(pin: "4829157")
        try await service.updateContacts(id, to: Contacts(emails: ["pat@example.org"], phones: [Phone(number: "602-555-0100", type: .cell)]), context: .agent)
        let events = try await service.auditEvents()
        #expect(events.first { $0.subjectID == "ghost" }?.outcome == "UNKNOWN_SUBJECT")
        #expect(events.first { $0.action == .updateContacts }?.facts == ["e-mail: p***@example.org", "phone CELL: ***0100"])
        #expect(!events.flatMap(\.facts).joined().contains("pat@example.org"))
    }

    /// A trail written before the chain was keyed goes on with keyed events after the upgrade.
    @Test func unkeyedEventsFromBeforeTheUpgradeStillVerify() throws {
        let keys = AuditChainKeys(keyring: fixture.hasher.keyring)
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        var old = AuditEvent(
            seq: 1, time: time, caller: "c", role: "agent", actor: nil, subjectID: "s", method: "m", action: .enroll, outcome: "OK",
            facts: [], previousHash: AuditChain.genesisHash, keyID: nil, hash: ""
        )
        old.hash = AuditChain.hash(of: old, key: nil)
        let draft = AuditDraft(time: time, context: .agent, subjectID: try SubjectID("s"), action: .verify, outcome: "VERIFIED")
        let new = AuditEvent(seq: 2, draft: draft, previousHash: old.hash, keys: keys)
        var verifier = AuditChainVerifier(keys: keys)
        #expect(verifier.check(old) && verifier.check(new))
    }

    @Test func aCheckpointIsVouchedForByThePepper() async throws {
        _ = try await fixture.activeClient(pin: "4829157")
        let report = try await service.verifyAuditChain()
        let checkpoint = service.checkpoint(of: report)
        #expect(checkpoint.seq == report.headSeq && checkpoint.hash == report.headHash)
        #expect(checkpoint.isAuthentic(under: fixture.hasher.keyring))
        #expect(!checkpoint.isAuthentic(under: try .random()))
        var forged = checkpoint
        forged.seq += 1
        #expect(!forged.isAuthentic(under: fixture.hasher.keyring))
    }

    /// Whoever can write the database can compute plain SHA-256 links: a chain whose head is
    /// unkeyed vouches for nothing, and a trail from before the keying gets a keyed head when the
    /// store is first opened keyed.
    @Test func anUnkeyedHeadVouchesForNothingAndOldTrailsGetAKeyedHead() async throws {
        let keys = AuditChainKeys(keyring: fixture.hasher.keyring)
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        var forged = AuditEvent(
            seq: 1, time: time, caller: "c", role: "agent", actor: nil, subjectID: "s", method: "m", action: .enroll, outcome: "OK",
            facts: [], previousHash: AuditChain.genesisHash, keyID: nil, hash: ""
        )
        forged.hash = AuditChain.hash(of: forged, key: nil)
        var verifier = AuditChainVerifier(keys: keys)
        let linked = verifier.check(forged)
        #expect(linked)
        #expect(verifier.report(firstBadSeq: nil).firstBadSeq == 1)
        let forgedHash = forged.hash

        // A trail written before the keying, in a store file, then opened by this version.
        let path = fixture.directory.path("old.sqlite")
        _ = try SQLiteCredentialStore(path: path, keyring: fixture.hasher.keyring)
        try await DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_event (seq, time_ms, caller, role, actor, subject_id, method, action, outcome, facts, previous_hash, key_id, hash)
                    VALUES (1, ?, 'c', 'agent', NULL, 's', 'm', 'ENROLL', 'OK', '[]', ?, NULL, ?)
                    """,
                arguments: [Timestamp.milliseconds(of: time), AuditChain.genesisHash, forgedHash]
            )
        }
        let reopened = try SQLiteCredentialStore(path: path, keyring: fixture.hasher.keyring)
        let report = try await reopened.verifyAuditChain()
        #expect(report.ok && report.headSeq == 2)
        #expect(try await reopened.auditEvents(subjectID: nil, afterSeq: 1, limit: 10).first?.action == .chainKeyed)
    }
}
