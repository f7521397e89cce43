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
import VerityTestSupport

/// Procedure 001: portal registration by an e-mailed single-use token, and a password reset
/// granted by a verified e-mailed code.
@Suite("Portal registration and password reset")
struct PortalTests {
    static let notifier = CallContext(caller: "mailer", role: "notifier")
    static let password = "Copper Meadow 5521"

    struct Setup {
        let fixture: ServiceFixture
        let clock: TestClock
        var service: CredentialService { fixture.service }
    }

    static func setUp() throws -> Setup {
        let clock = TestClock()
        return Setup(fixture: try ServiceFixture(now: clock.closure), clock: clock)
    }

    static func enrolled(_ id: String, in setup: Setup, email: String? = "pat@example.org") async throws -> SubjectID {
        let subject = try SubjectID(id)
        _ = try await setup.service.enroll(subject, kind: .client, contacts: Contacts(emails: email.map { [$0] } ?? []), context: .agent)
        return subject
    }

    /// The variables of the e-mails in the outbox now, settled as sent.
    static func mail(_ setup: Setup) async throws -> [[String: String]] {
        let leased = try await setup.service.leaseDeliveries(max: 100, leaseSeconds: 60, context: notifier)
        for delivery in leased { try await setup.service.acknowledgeDelivery(delivery.id, leaseToken: delivery.leaseToken, outcome: .sent, context: notifier) }
        return leased.map(\.content.variables)
    }

    @Test func aRegistrationTokenWorksOnceAndSetsThePortalPassword() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let nobody = try await Self.enrolled("portal-no-mail", in: setup, email: nil)
        await #expect(throws: CredentialError.failedPrecondition(reason: "NO_EMAIL", message: "portal registration goes by e-mail: put an e-mail address on file first")) {
            try await service.startPortalRegistration(for: nobody, context: .agent)
        }
        let subject = try await Self.enrolled("portal-1", in: setup)
        let started = try await service.startPortalRegistration(for: subject, context: .agent)
        #expect(started.maskedDestination == "p***@example.org")
        let token = try #require(try await Self.mail(setup).only?["token"])
        #expect(token.count == 32 + 1 + 43)
        let usages = try await service.keyInventory().counts.keys.map(\.item)
        #expect(usages.contains("registration token"), "a key that seals a usable token is one the keyring must keep")

        let completed = try await service.completePortalRegistration(token: token, password: Self.password, context: .verifier)
        #expect(completed.subject == subject && completed.state == .active)
        #expect(try await service.verify(subject, SecurityFactors(password: Self.password), channel: .portal, context: .verifier).outcome == .verified)
        await #expect(throws: CredentialError.failedPrecondition(reason: "TOKEN_USED", message: "the registration token was already used")) {
            try await service.completePortalRegistration(token: token, password: "Another Meadow 7731", context: .verifier)
        }
        let forged = String(token.dropLast()) + (token.last == "A" ? "B" : "A")
        await #expect(throws: CredentialError.missing(field: "token", message: "no registration token matches")) {
            try await service.completePortalRegistration(token: forged, password: Self.password, context: .verifier)
        }
        await #expect(throws: CredentialError.self) {
            try await service.completePortalRegistration(token: "not-a-token", password: Self.password, context: .verifier)
        }
        let trail = try await service.auditEvents(for: subject).map(\.action)
        #expect(trail.contains(.startPortalRegistration) && trail.contains(.completePortalRegistration))

        // Neither half of the token's secret nor the password is anywhere at rest or in a log line.
        let secret = String(token.split(separator: ".")[1])
        let audit = try await service.auditEvents(limit: 1000).flatMap(\.facts).joined(separator: "\n")
        let places = [("the logs", setup.fixture.logs.text), ("the audit trail", audit)]
            + (try setup.fixture.directory.allFileContents()).map { ($0.name, String(decoding: $0.bytes, as: UTF8.self)) }
        for (place, text) in places {
            for (name, value) in [("the token's secret", secret), ("the password", Self.password)] {
                let leaked = text.contains(value)
                #expect(!leaked, "\(name) reached \(place)")
            }
        }
    }

    @Test func aNewRegistrationReplacesTheOldTokenAndATokenExpires() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.enrolled("portal-2", in: setup)
        _ = try await service.startPortalRegistration(for: subject, context: .agent)
        let first = try #require(try await Self.mail(setup).only?["token"])
        _ = try await service.startPortalRegistration(for: subject, context: .agent)
        _ = try await service.startPortalRegistration(for: subject, context: .agent)
        let latest = try #require(try await Self.mail(setup).only?["token"], "the replaced e-mail, not yet sent, is withdrawn")
        await #expect(throws: CredentialError.failedPrecondition(reason: "TOKEN_REPLACED", message: "a newer registration e-mail replaced this token")) {
            try await service.completePortalRegistration(token: first, password: Self.password, context: .verifier)
        }
        setup.clock.advance(by: 72 * 3600)
        await #expect(throws: CredentialError.failedPrecondition(reason: "TOKEN_EXPIRED", message: "the registration token expired; ask the caseworker to start the registration again")) {
            try await service.completePortalRegistration(token: latest, password: Self.password, context: .verifier)
        }
        #expect(try await service.status(of: subject).state == .notSetUp, "no refused redemption set anything")
    }

    @Test func aTokenStopsWorkingOnceItsAddressIsNoLongerOnFile() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.enrolled("portal-moved", in: setup)
        _ = try await service.startPortalRegistration(for: subject, context: .agent)
        let token = try #require(try await Self.mail(setup).only?["token"])
        try await service.updateContacts(subject, to: Contacts(emails: ["pat.new@example.org"]), context: .agent)
        await #expect(throws: CredentialError.failedPrecondition(reason: "TOKEN_REPLACED", message: "the e-mail address the token was sent to is no longer on file")) {
            try await service.completePortalRegistration(token: token, password: Self.password, context: .verifier)
        }
    }

    /// Refused tokens and grants cost no hashing: a portal sending made-up ones cannot fill the
    /// hashing pool that every PIN check shares.
    @Test func aRefusedTokenOrGrantIsNeverHashedFor() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.enrolled("portal-cheap", in: setup)
        // A password to reset, so that only the grant refuses the reset below.
        _ = try await service.setSecurityDetails(subject, SecurityFactors(password: "Old Orchard 1234"), context: .agent)
        _ = try await service.startPortalRegistration(for: subject, context: .agent)
        let token = try #require(try await Self.mail(setup).only?["token"])
        let forged = String(token.dropLast()) + (token.last == "A" ? "B" : "A")
        let unverified = try await service.issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
        let before = setup.fixture.hasher.hashes
        await #expect(throws: CredentialError.self) { try await service.completePortalRegistration(token: forged, password: Self.password, context: .verifier) }
        await #expect(throws: CredentialError.self) {
            try await service.completePortalRegistration(token: String(repeating: "0", count: 32) + "." + String(repeating: "A", count: 43), password: Self.password, context: .verifier)
        }
        await #expect(throws: CredentialError.self) { try await service.resetPortalPassword(subject, challenge: unverified.challengeID, newPassword: Self.password, context: .verifier) }
        try await service.updateContacts(subject, to: Contacts(emails: ["pat.new@example.org"]), context: .agent)
        await #expect(throws: CredentialError.self) { try await service.completePortalRegistration(token: token, password: Self.password, context: .verifier) }
        #expect(setup.fixture.hasher.hashes == before)
    }

    @Test func ofTenParallelRedemptionsOfATokenExactlyOneSucceeds() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.enrolled("portal-3", in: setup)
        _ = try await service.startPortalRegistration(for: subject, context: .agent)
        let token = try #require(try await Self.mail(setup).only?["token"])
        let successes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask { (try? await service.completePortalRegistration(token: token, password: "Copper Meadow 55\(10 + index)", context: .verifier)) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1)
    }

    /// The code verified, then one password change on its grant: for that subject and purpose, once.
    @Test func aVerifiedResetCodeGrantsExactlyOnePasswordChange() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.enrolled("portal-4", in: setup)
        let other = try await Self.enrolled("portal-5", in: setup, email: "sam@example.org")
        let unregistered = try await service.issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
        let firstCode = try #require(try await Self.mail(setup).only?["code"])
        _ = try await service.verifyCode(challenge: unregistered.challengeID, code: firstCode, subject: subject, purpose: .passwordReset, context: .verifier)
        await #expect(throws: CredentialError.failedPrecondition(reason: "NO_PASSWORD", message: "the person has no portal password to reset: a caseworker starts their registration")) {
            try await service.resetPortalPassword(subject, challenge: unregistered.challengeID, newPassword: Self.password, context: .verifier)
        }
        _ = try await service.setSecurityDetails(subject, SecurityFactors(pin: "4829157", password: "Old Orchard 1234"), context: .agent)
        for _ in 0..<2 { _ = try await service.verify(subject, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        let issued = try await service.issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
        let code = try #require(try await Self.mail(setup).only?["code"])
        await #expect(throws: CredentialError.failedPrecondition(reason: "CODE_NOT_VERIFIED", message: "the one-time code of this challenge has not been verified (Mfa/VerifyCode)")) {
            try await service.resetPortalPassword(subject, challenge: issued.challengeID, newPassword: Self.password, context: .verifier)
        }
        #expect(try await service.verifyCode(challenge: issued.challengeID, code: code, subject: subject, purpose: .passwordReset, context: .verifier).outcome == .verified)
        await #expect(throws: CredentialError.missing(field: "challengeId", message: "no PASSWORD_RESET challenge with this id for this subject")) {
            try await service.resetPortalPassword(other, challenge: issued.challengeID, newPassword: Self.password, context: .verifier)
        }
        let successes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    (try? await service.resetPortalPassword(subject, challenge: issued.challengeID, newPassword: "Copper Meadow 55\(10 + index)", context: .verifier)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1, "a grant is single use, however many try at once")
        #expect(try await service.status(of: subject).consecutiveFailures == 2, "a portal reset clears no failure count of the lock")
        await #expect(throws: CredentialError.failedPrecondition(reason: "GRANT_USED", message: "the verified code was already used for its act; issue a new code")) {
            try await service.resetPortalPassword(subject, challenge: issued.challengeID, newPassword: Self.password, context: .verifier)
        }

        let late = try await service.issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
        let lateCode = try #require(try await Self.mail(setup).only?["code"])
        _ = try await service.verifyCode(challenge: late.challengeID, code: lateCode, subject: subject, purpose: .passwordReset, context: .verifier)
        setup.clock.advance(by: 600)
        await #expect(throws: CredentialError.failedPrecondition(reason: "GRANT_EXPIRED", message: "the verified code may be used within 10 minutes of its verification; issue a new code")) {
            try await service.resetPortalPassword(subject, challenge: late.challengeID, newPassword: Self.password, context: .verifier)
        }
        let stepUp = try await service.issueCode(to: subject, channel: .email, purpose: .stepUp, context: .verifier)
        await #expect(throws: CredentialError.missing(field: "challengeId", message: "no PASSWORD_RESET challenge with this id for this subject")) {
            try await service.resetPortalPassword(subject, challenge: stepUp.challengeID, newPassword: Self.password, context: .verifier)
        }
        try await service.updateContacts(subject, to: Contacts(emails: ["pat@example.org"], phones: [Phone(number: "602-555-0100", type: .cell)]), context: .agent)
        let texted = try await service.issueCode(to: subject, channel: .sms, purpose: .passwordReset, context: .verifier)
        let textedCode = try #require(try await Self.mail(setup).last?["code"])
        _ = try await service.verifyCode(challenge: texted.challengeID, code: textedCode, subject: subject, purpose: .passwordReset, context: .verifier)
        await #expect(throws: CredentialError.failedPrecondition(reason: "CODE_NOT_BY_EMAIL", message: "a password reset is granted by a code sent to the e-mail address on file")) {
            try await service.resetPortalPassword(subject, challenge: texted.challengeID, newPassword: Self.password, context: .verifier)
        }
    }
}
