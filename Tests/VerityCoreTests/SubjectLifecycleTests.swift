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

@Suite("Enrolment, security details and state transitions")
struct SubjectLifecycleTests {
    let fixture: ServiceFixture
    var service: CredentialService { fixture.service }

    init() throws {
        fixture = try ServiceFixture()
    }

    @Test func aNewSubjectIsNotSetUp() async throws {
        let id = try SubjectID("case-1/PWC")
        let status = try await service.enroll(id, kind: .client, context: .agent)
        #expect(status.state == .notSetUp)
        #expect(!status.hasPIN && !status.hasPassword)
        #expect(try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
            == VerificationResult(.notSetUp, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == 0)
    }

    @Test func enrollingTwiceIsAlreadyExists() async throws {
        let id = try SubjectID("case-1/PWC")
        _ = try await service.enroll(id, kind: .client, context: .agent)
        await #expect(throws: CredentialError.alreadyExists(id)) {
            try await service.enroll(id, kind: .client, context: .agent)
        }
    }

    @Test func settingDetailsMakesTheSubjectActive() async throws {
        let id = try SubjectID("case-1/PWC")
        _ = try await service.enroll(id, kind: .client, context: .agent)
        let state = try await service.setSecurityDetails(id, SecurityFactors(pin: "4829157", password: "Blue kettle 1987"), context: .agent)
        #expect(state == .active)
        let status = try await service.status(of: id)
        #expect(status.hasPIN && status.hasPassword && status.consecutiveFailures == 0)
    }

    @Test func aRefusedDetailChangesNothing() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        let before = try await service.status(of: id)
        await #expect(throws: CredentialError.invalidArgument(field: "password", reason: "TOO_SHORT", message: "a password has at least 8 characters")) {
            try await service.setSecurityDetails(id, SecurityFactors(pin: "5937261", password: "short"), context: .agent)
        }
        // The valid PIN sent with the refused password was not applied either.
        #expect(try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
        #expect(try await service.status(of: id).updatedAt == before.updatedAt)
    }

    @Test func settingNoFactorIsInvalid() async throws {
        let id = try await fixture.activeClient()
        await #expect(throws: CredentialError.self) {
            try await service.setSecurityDetails(id, SecurityFactors(), context: .agent)
        }
    }

    @Test func applyingDefaultsLeavesNothingThatVerifies() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue kettle 1987")
        #expect(try await service.applyDefaults(id, context: .agent) == .defaultsApplied)
        let status = try await service.status(of: id)
        #expect(status.state == .defaultsApplied && !status.hasPIN && !status.hasPassword)
        let result = try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        #expect(result == VerificationResult(.notSetUp, attemptsRemaining: 0))
        #expect(try await service.setSecurityDetails(id, SecurityFactors(pin: "5937261"), context: .agent) == .active)
        #expect(try await service.verify(id, SecurityFactors(pin: "5937261"), channel: .phone, context: .verifier).outcome == .verified)
    }

    @Test func aNotSetUpSubjectCanGetDefaultsApplied() async throws {
        let id = try SubjectID("case-2/PWC")
        _ = try await service.enroll(id, kind: .client, context: .agent)
        #expect(try await service.applyDefaults(id, context: .agent) == .defaultsApplied)
    }

    @Test func aBlockedSubjectMustBeUnblockedBeforeNewDetailsOrDefaults() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        for _ in 0..<3 { _ = try await service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        #expect(try await service.status(of: id).state == .blocked)
        await #expect(throws: CredentialError.failedPrecondition(reason: "BLOCKED", message: "the subject is blocked; unblock it first (verity.v1.Admin/Unblock)")) {
            try await service.setSecurityDetails(id, SecurityFactors(pin: "5937261"), context: .agent)
        }
        await #expect(throws: CredentialError.self) { try await service.applyDefaults(id, context: .agent) }
        #expect(try await service.unblock(id, reason: "identity confirmed by phone", context: .admin) == .active)
        #expect(try await service.setSecurityDetails(id, SecurityFactors(pin: "5937261"), context: .agent) == .active)
    }

    @Test func unblockingNeedsAReasonAndABlockedSubject() async throws {
        let id = try await fixture.activeClient()
        await #expect(throws: CredentialError.invalidArgument(field: "reason", reason: "REQUIRED", message: "an unblock needs a reason, for the audit trail")) {
            try await service.unblock(id, reason: "  \n", context: .admin)
        }
        let tooLong = CredentialError.invalidArgument(field: "reason", reason: "TOO_LONG", message: "a reason has at most 500 Unicode scalars")
        await #expect(throws: tooLong) {
            try await service.unblock(id, reason: String(repeating: "r", count: 501), context: .admin)
        }
        // One character that carries 60,000 combining marks is not one character's worth.
        await #expect(throws: tooLong) {
            try await service.unblock(id, reason: "e" + String(repeating: "\u{301}", count: 60_000), context: .admin)
        }
        for hidden in ["confirmed\u{1B}[2J by phone", "confirmed\u{2028}forged line", "confirmed \u{202E}enohp yb"] {
            await #expect(throws: CredentialError.invalidArgument(field: "reason", reason: "INVALID_VALUE", message: "a reason holds no control, format or line-separator characters")) {
                try await service.unblock(id, reason: hidden, context: .admin)
            }
        }
        await #expect(throws: CredentialError.failedPrecondition(reason: "NOT_BLOCKED", message: "the subject is ACTIVE, not BLOCKED")) {
            try await service.unblock(id, reason: "just because", context: .admin)
        }
    }

    @Test func unblockingResetsTheCountAndClearsTheBlock() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        for _ in 0..<3 { _ = try await service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        let blocked = try await service.status(of: id)
        #expect(blocked.blockedAt != nil && blocked.blockReason == "3 consecutive failed security checks")
        _ = try await service.unblock(id, reason: "caller identified at the office", context: .admin)
        let status = try await service.status(of: id)
        #expect(status.state == .active && status.consecutiveFailures == 0 && status.blockedAt == nil && status.blockReason == nil)
        #expect(try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier) == VerificationResult(.verified, attemptsRemaining: 3))
    }

    @Test func aRepresentativeHasDetailsOfTheirOwn() async throws {
        let client = try await fixture.activeClient("case-9/PWC", pin: "4829157")
        let representative = try SubjectID("case-9/PWC/rep-1")
        let status = try await service.enroll(representative, kind: .representative, representing: client, context: .agent)
        #expect(status.representsSubjectID == client && status.state == .notSetUp)
        _ = try await service.setSecurityDetails(representative, SecurityFactors(pin: "5937261"), context: .agent)
        #expect(try await service.verify(representative, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .mismatch)
        #expect(try await service.verify(client, SecurityFactors(pin: "5937261"), channel: .phone, context: .verifier).outcome == .mismatch)
        #expect(try await service.verify(client, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
        #expect(try await service.status(of: representative).consecutiveFailures == 1)
    }

    @Test func representativeRules() async throws {
        let client = try await fixture.activeClient("case-9/PWC")
        let rep = try SubjectID("rep-1")
        await #expect(throws: CredentialError.invalidArgument(field: "representsSubjectId", reason: "REQUIRED", message: "a representative names the client they represent")) {
            try await service.enroll(rep, kind: .representative, context: .agent)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "representsSubjectId", reason: "NOT_ALLOWED", message: "only a representative represents someone")) {
            try await service.enroll(rep, kind: .client, representing: client, context: .agent)
        }
        let missing = try SubjectID("nobody")
        await #expect(throws: CredentialError.notFound(missing)) {
            try await service.enroll(rep, kind: .representative, representing: missing, context: .agent)
        }
        _ = try await service.enroll(rep, kind: .representative, representing: client, context: .agent)
        await #expect(throws: CredentialError.self) {
            try await service.enroll(try SubjectID("rep-2"), kind: .representative, representing: rep, context: .agent)
        }
    }

    @Test func contactsAreReplacedAndValidated() async throws {
        let id = try await fixture.activeClient()
        try await service.updateContacts(id, to: Contacts(emails: ["pat@example.org"], phones: [Phone(number: "602-555-0100", type: .cell)]), context: .agent)
        await #expect(throws: CredentialError.self) {
            try await service.updateContacts(id, to: Contacts(emails: ["nope"]), context: .agent)
        }
        await #expect(throws: CredentialError.notFound(try SubjectID("ghost"))) {
            try await service.updateContacts(try SubjectID("ghost"), to: Contacts(), context: .agent)
        }
    }

    @Test func unknownSubjectsAreNotFound() async throws {
        let ghost = try SubjectID("ghost")
        await #expect(throws: CredentialError.notFound(ghost)) { try await service.status(of: ghost) }
        await #expect(throws: CredentialError.notFound(ghost)) { try await service.applyDefaults(ghost, context: .agent) }
        await #expect(throws: CredentialError.notFound(ghost)) { try await service.unblock(ghost, reason: "x", context: .admin) }
        await #expect(throws: CredentialError.notFound(ghost)) {
            try await service.setSecurityDetails(ghost, SecurityFactors(pin: "4829157"), context: .agent)
        }
    }
}
