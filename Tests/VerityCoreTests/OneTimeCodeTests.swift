//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import Testing
import VerityCore
import VerityStore
import VerityTestSupport

@Suite("One-time codes")
struct OneTimeCodeTests {
    let clock = TestClock()
    let fixture: ServiceFixture
    var service: CredentialService { fixture.service }
    static let notifier = CallContext(caller: "mail-gateway", role: "notifier")

    init() throws {
        fixture = try ServiceFixture(now: clock.closure)
    }

    /// A client with an e-mail address, a cell phone and a fax on file.
    func client(_ id: String = "code-1") async throws -> SubjectID {
        let subject = try SubjectID(id)
        _ = try await service.enroll(
            subject, kind: .client,
            contacts: Contacts(emails: ["pat@example.org"], phones: [Phone(number: "602-555-0199", type: .fax), Phone(number: "602-555-0100", type: .cell)]),
            context: .agent
        )
        return subject
    }

    /// Issues a code and reads it from the outbox, as the mail system would.
    func issue(_ id: SubjectID, _ purpose: CodePurpose = .passwordReset, channel: CodeChannel = .email) async throws -> (IssuedCode, String) {
        let issued = try await service.issueCode(to: id, channel: channel, purpose: purpose, context: .verifier)
        let delivery = try #require(try await service.leaseDeliveries(max: 100, leaseSeconds: 60, context: Self.notifier).last)
        return (issued, try #require(delivery.content.variables["code"]))
    }

    @Test func aCodeGoesToAContactOnFileAndWorksOnce() async throws {
        let id = try await client()
        let issued = try await service.issueCode(to: id, channel: .email, purpose: .passwordReset, context: .verifier)
        #expect(issued.maskedDestination == "p***@example.org")
        #expect(issued.expiresAt == clock.now.addingTimeInterval(600))
        let delivery = try #require(try await service.leaseDeliveries(max: 10, leaseSeconds: 60, context: Self.notifier).first)
        #expect(delivery.content.destination == "pat@example.org")
        #expect(delivery.content.template == "CODE_PASSWORD_RESET")
        #expect(delivery.content.variables["purpose"] == "PASSWORD_RESET")
        let code = try #require(delivery.content.variables["code"])
        #expect(code.count == 6 && code.allSatisfy(\.isNumber))
        #expect(try await service.verifyCode(issued, code: code, context: .verifier).outcome == .verified)
        #expect(try await service.verifyCode(issued, code: code, context: .verifier) == CodeVerificationResult(.alreadyUsed, attemptsRemaining: 0))
    }

    @Test func textsGoOnlyToLinesThatTakeThem() async throws {
        let id = try await client()
        let issued = try await service.issueCode(to: id, channel: .sms, purpose: .stepUp, context: .verifier)
        #expect(issued.maskedDestination == "***0100")
        await #expect(throws: CredentialError.invalidArgument(field: "destination", reason: "NOT_ALLOWED", message: "a FAX line cannot take text messages")) {
            try await service.issueCode(to: id, channel: .sms, purpose: .stepUp, destination: "602-555-0199", context: .verifier)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "destination", reason: "INVALID_VALUE", message: "destination is not a contact on file")) {
            try await service.issueCode(to: id, channel: .email, purpose: .stepUp, destination: "attacker@example.com", context: .verifier)
        }
        let faxOnly = try SubjectID("fax-only")
        _ = try await service.enroll(faxOnly, kind: .client, contacts: Contacts(phones: [Phone(number: "602-555-0199", type: .fax), Phone(number: "800-555-0100", type: .tollFree)]), context: .agent)
        await #expect {
            try await service.issueCode(to: faxOnly, channel: .sms, purpose: .stepUp, context: .verifier)
        } throws: { error in
            if case .failedPrecondition(reason: "NO_ELIGIBLE_CONTACT", _) = error as? CredentialError { true } else { false }
        }
    }

    @Test func aCodeExpires() async throws {
        let (issued, code) = try await issue(try await client())
        clock.advance(by: 601)
        #expect(try await service.verifyCode(issued, code: code, context: .verifier) == CodeVerificationResult(.expired, attemptsRemaining: 0))
    }

    @Test func threeWrongTriesExhaustTheChallenge() async throws {
        let (issued, code) = try await issue(try await client())
        let wrong = code == "000000" ? "000001" : "000000"
        for remaining in [2, 1, 0] {
            #expect(try await service.verifyCode(issued, code: wrong, context: .verifier) == CodeVerificationResult(.mismatch, attemptsRemaining: remaining))
        }
        #expect(try await service.verifyCode(issued, code: code, context: .verifier) == CodeVerificationResult(.exhausted, attemptsRemaining: 0))
    }

    @Test func aFloodOfParallelTriesGetsAtMostThreeEvaluated() async throws {
        let (issued, code) = try await issue(try await client())
        let service = self.service
        let outcomes = try await withThrowingTaskGroup(of: CodeVerificationResult.Outcome.self) { group in
            for guess in 0..<100 {
                let attempt = String(format: "%06d", guess)
                guard attempt != code else { continue }
                group.addTask { try await service.verifyCode(issued, code: attempt, context: .verifier).outcome }
            }
            return try await group.reduce(into: [CodeVerificationResult.Outcome]()) { $0.append($1) }
        }
        // Only an evaluated try can answer MISMATCH; the rest were refused before any comparison.
        #expect(outcomes.filter { $0 == .mismatch }.count == 3)
        #expect(outcomes.allSatisfy { $0 == .mismatch || $0 == .exhausted })
    }

    @Test func aNewCodeReplacesTheOldOneForTheSamePurpose() async throws {
        let id = try await client()
        let (first, firstCode) = try await issue(id, .portalRegistration)
        let (other, otherCode) = try await issue(id, .accountLink)
        let (second, secondCode) = try await issue(id, .portalRegistration)
        #expect(try await service.verifyCode(first, code: firstCode, context: .verifier).outcome == .expired)
        #expect(try await service.verifyCode(second, code: secondCode, context: .verifier).outcome == .verified)
        #expect(try await service.verifyCode(other, code: otherCode, context: .verifier).outcome == .verified)
    }

    @Test func aCodeIsBoundToItsChallenge() async throws {
        let id = try await client()
        let (first, firstCode) = try await issue(id, .portalRegistration)
        let (second, _) = try await issue(id, .stepUp)
        #expect(try await service.verifyCode(second, code: firstCode, context: .verifier).outcome == .mismatch)
        #expect(try await service.verifyCode(first, code: firstCode, context: .verifier).outcome == .verified)
        await #expect(throws: CredentialError.missing(field: "challengeId", message: "no challenge with this id")) {
            try await service.verifyCode(challenge: "no-such-challenge", code: firstCode, subject: id, purpose: .portalRegistration, context: .verifier)
        }
    }

    /// Several right answers at once: exactly one uses the code.
    @Test func ofTwelveParallelRightAnswersExactlyOneIsVerified() async throws {
        let (issued, code) = try await issue(try await client())
        var configuration = CredentialService.Configuration()
        configuration.codeAttemptLimit = 12
        let service = try CredentialService(store: fixture.store, hasher: fixture.hasher, keyring: fixture.hasher.keyring, configuration: configuration, now: clock.closure)
        let outcomes = try await withThrowingTaskGroup(of: CodeVerificationResult.Outcome.self) { group in
            for _ in 0..<12 { group.addTask { try await service.verifyCode(issued, code: code, context: .verifier).outcome } }
            return try await group.reduce(into: [CodeVerificationResult.Outcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .verified }.count == 1)
        #expect(outcomes.filter { $0 == .alreadyUsed }.count == 11)
    }

    /// A challenge handed over from another person's or another purpose's flow is not found, and
    /// costs its owner no try.
    @Test func aChallengeIsBoundToItsSubjectAndPurpose() async throws {
        let id = try await client()
        let other = try SubjectID("outbox-2")
        _ = try await service.enroll(other, kind: .client, contacts: Contacts(emails: ["sam@example.org"]), context: .agent)
        let (issued, code) = try await issue(id, .passwordReset)
        let notFound = CredentialError.missing(field: "challengeId", message: "no challenge with this id")
        await #expect(throws: notFound) {
            try await service.verifyCode(challenge: issued.challengeID, code: code, subject: other, purpose: .passwordReset, context: .verifier)
        }
        await #expect(throws: notFound) {
            try await service.verifyCode(challenge: issued.challengeID, code: code, subject: id, purpose: .accountLink, context: .verifier)
        }
        #expect(try await service.verifyCode(issued, code: code, context: .verifier) == CodeVerificationResult(.verified, attemptsRemaining: 0))
    }

    @Test func aBlankCodeIsRefusedUncounted() async throws {
        let (issued, code) = try await issue(try await client())
        await #expect(throws: CredentialError.invalidArgument(field: "code", reason: "EMPTY", message: "code is empty or only spaces")) {
            try await service.verifyCode(issued, code: "  ", context: .verifier)
        }
        #expect(try await service.verifyCode(issued, code: code, context: .verifier).outcome == .verified)
    }

    /// Several people can share a phone: together they cannot turn it into a pager.
    @Test func issuingIsRateLimitedPerDestination() async throws {
        var configuration = CredentialService.Configuration()
        configuration.codesPerDestinationPerWindow = 3
        let service = try CredentialService(store: fixture.store, hasher: fixture.hasher, keyring: fixture.hasher.keyring, configuration: configuration, now: clock.closure)
        let shared = Contacts(phones: [Phone(number: "602-555-0100", type: .cell)])
        let (first, second) = (try SubjectID("share-1"), try SubjectID("share-2"))
        _ = try await service.enroll(first, kind: .client, contacts: shared, context: .agent)
        _ = try await service.enroll(second, kind: .client, contacts: Contacts(phones: [Phone(number: "(602) 555-0100", type: .cell)]), context: .agent)
        _ = try await service.issueCode(to: first, channel: .sms, purpose: .stepUp, context: .verifier)
        _ = try await service.issueCode(to: first, channel: .sms, purpose: .passwordReset, context: .verifier)
        _ = try await service.issueCode(to: second, channel: .sms, purpose: .stepUp, context: .verifier)
        await #expect(throws: CredentialError.destinationRateLimited(retryAfter: clock.now.addingTimeInterval(3600))) {
            try await service.issueCode(to: second, channel: .sms, purpose: .accountLink, context: .verifier)
        }
        clock.advance(by: 3601)
        _ = try await service.issueCode(to: second, channel: .sms, purpose: .accountLink, context: .verifier)
    }

    @Test func issuingIsRateLimitedPerSubject() async throws {
        let id = try await client()
        let start = clock.now
        for _ in 0..<5 {
            _ = try await service.issueCode(to: id, channel: .email, purpose: .stepUp, context: .verifier)
            clock.advance(by: 60)
        }
        await #expect(throws: CredentialError.rateLimited(retryAfter: start.addingTimeInterval(3600))) {
            try await service.issueCode(to: id, channel: .email, purpose: .stepUp, context: .verifier)
        }
        let other = try await client("code-2")
        _ = try await service.issueCode(to: other, channel: .email, purpose: .stepUp, context: .verifier)
        clock.advance(by: 3600 - 300 + 1)
        _ = try await service.issueCode(to: id, channel: .email, purpose: .stepUp, context: .verifier)
    }

    @Test func codeFailuresDoNotCountTowardsTheSecurityLock() async throws {
        let id = try await fixture.activeClient("code-3", pin: "4829157")
        try await service.updateContacts(id, to: Contacts(emails: ["sam@example.org"]), context: .agent)
        let (issued, code) = try await issue(id)
        for _ in 0..<3 { _ = try await service.verifyCode(issued, code: code == "000000" ? "111111" : "000000", context: .verifier) }
        #expect(try await service.status(of: id).consecutiveFailures == 0)
        #expect(try await service.status(of: id).state == .active)
    }
}

@Suite("The notification outbox")
struct OutboxTests {
    let clock = TestClock()
    let fixture: ServiceFixture
    var service: CredentialService { fixture.service }
    static let notifier = CallContext(caller: "mail-gateway", role: "notifier")

    init() throws {
        fixture = try ServiceFixture(now: clock.closure)
    }

    func client() async throws -> SubjectID {
        let id = try SubjectID("outbox-1")
        _ = try await service.enroll(id, kind: .client, contacts: Contacts(emails: ["pat@example.org"]), context: .agent)
        return id
    }

    @Test func aLeaseThatRunsOutIsHandedOutAgain() async throws {
        _ = try await service.issueCode(to: try await client(), channel: .email, purpose: .stepUp, context: .verifier)
        let first = try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier)
        #expect(first.count == 1)
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).isEmpty)
        clock.advance(by: 31)
        let again = try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier)
        #expect(again.map(\.id) == first.map(\.id))
        #expect(again.first?.content == first.first?.content)
        // The first notifier's lease ran out: it may not settle what the second now holds.
        await #expect(throws: CredentialError.failedPrecondition(reason: "LEASE_LOST", message: "the lease ran out and the delivery was leased again; do not send it twice")) {
            try await service.acknowledgeDelivery(first[0].id, leaseToken: first[0].leaseToken, outcome: .failed, context: Self.notifier)
        }
        #expect(again[0].leaseToken != first[0].leaseToken)
        try await service.acknowledgeDelivery(again[0].id, leaseToken: again[0].leaseToken, outcome: .sent, context: Self.notifier)
        clock.advance(by: 31)
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).isEmpty)
        await #expect(throws: CredentialError.missing(field: "deliveryId", message: "no pending delivery with this id")) {
            try await service.acknowledgeDelivery(again[0].id, leaseToken: again[0].leaseToken, outcome: .sent, context: Self.notifier)
        }
    }

    @Test func leasesAndAcksCheckTheirArguments() async throws {
        await #expect(throws: CredentialError.self) { try await service.leaseDeliveries(max: 0, leaseSeconds: 30, context: Self.notifier) }
        await #expect(throws: CredentialError.self) { try await service.leaseDeliveries(max: 10, leaseSeconds: 3601, context: Self.notifier) }
        await #expect(throws: CredentialError.self) { try await service.acknowledgeDelivery("x", leaseToken: "y", outcome: .pending, context: Self.notifier) }
    }

    @Test func aDeliveryIsWrittenWithItsCodeOrNotAtAll() async throws {
        let id = try await client()
        var configuration = CredentialService.Configuration()
        configuration.codesPerWindow = 1
        let limited = try CredentialService(store: fixture.store, hasher: fixture.hasher, keyring: fixture.hasher.keyring, configuration: configuration, now: clock.closure)
        _ = try await limited.issueCode(to: id, channel: .email, purpose: .stepUp, context: .verifier)
        await #expect(throws: CredentialError.self) { try await limited.issueCode(to: id, channel: .email, purpose: .stepUp, context: .verifier) }
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).count == 1)
    }

    @Test func aCrashAfterIssuingLosesNoDelivery() async throws {
        let id = try await client()
        let issued = try await service.issueCode(to: id, channel: .email, purpose: .accountLink, context: .verifier)
        try fixture.store.close()
        // A new process: the same database file and pepper, nothing in memory.
        let reopened = try CredentialService(
            store: try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring), hasher: fixture.hasher, keyring: fixture.hasher.keyring, now: clock.closure
        )
        let delivery = try #require(try await reopened.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).first)
        let code = try #require(delivery.content.variables["code"])
        #expect(try await reopened.verifyCode(issued, code: code, context: .verifier).outcome == .verified)
    }

    @Test func noCodeIsStoredInPlaintextAndNoneAtAllAfterTheAck() async throws {
        _ = try await service.issueCode(to: try await client(), channel: .email, purpose: .passwordReset, context: .verifier)
        let delivery = try #require(try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).first)
        let code = try #require(delivery.content.variables["code"])
        #expect(!(try containsToken(code)), "the code is in the database before the ack")
        try await service.acknowledgeDelivery(delivery.id, leaseToken: delivery.leaseToken, outcome: .sent, context: Self.notifier)
        #expect(!(try containsToken(code)))
        #expect(!fixture.logs.text.contains(code))
        let sealed = try await fixture.store.sealedContentCount()
        #expect(sealed == 0)
    }

    @Test func anExpiredDeliveryIsErasedByTheTimerWithoutAnyLease() async throws {
        _ = try await service.issueCode(to: try await client(), channel: .email, purpose: .passwordReset, context: .verifier)
        #expect(try await service.expireDeliveries() == 0)
        clock.advance(by: 601)
        #expect(try await service.expireDeliveries() == 1)
        #expect(try await fixture.store.sealedContentCount() == 0)
    }

    @Test func replacingACodeExpiresItsPendingDeliveryAtOnce() async throws {
        let id = try await client()
        _ = try await service.issueCode(to: id, channel: .email, purpose: .passwordReset, context: .verifier)
        let second = try await service.issueCode(to: id, channel: .email, purpose: .passwordReset, context: .verifier)
        let leased = try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier)
        #expect(leased.count == 1, "the replaced code's message must not be sent")
        #expect(try await fixture.store.sealedContentCount() == 1)
        let code = try #require(leased.first?.content.variables["code"])
        #expect(try await service.verifyCode(second, code: code, context: .verifier).outcome == .verified)
    }

    @Test func anEditedExpiryBreaksTheSeal() async throws {
        _ = try await service.issueCode(to: try await client(), channel: .email, purpose: .passwordReset, context: .verifier)
        try await DatabaseQueue(path: fixture.databasePath).write { try $0.execute(sql: "UPDATE outbox SET expires_at_ms = expires_at_ms + 86400000") }
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).isEmpty)
    }

    @Test func anExpiredDeliveryIsErasedUnsent() async throws {
        _ = try await service.issueCode(to: try await client(), channel: .email, purpose: .passwordReset, context: .verifier)
        clock.advance(by: 601)
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 30, context: Self.notifier).isEmpty)
        #expect(try await fixture.store.sealedContentCount() == 0)
    }

    /// Whether `token` stands in the database files on its own: not inside a longer run of hex
    /// or base64 characters, where random MACs and ids hold digit runs by chance.
    func containsToken(_ token: String) throws -> Bool {
        let pattern = "(^|[^0-9A-Za-z+/=])" + NSRegularExpression.escapedPattern(for: token) + "($|[^0-9A-Za-z+/=])"
        return try fixture.directory.allFileContents().contains { file in
            String(decoding: file.bytes, as: UTF8.self).range(of: pattern, options: .regularExpression) != nil
        }
    }
}

extension CredentialService {
    /// Checks a code for the subject and purpose it was issued for.
    func verifyCode(_ issued: IssuedCode, code: String, context: CallContext) async throws -> CodeVerificationResult {
        try await verifyCode(challenge: issued.challengeID, code: code, subject: issued.subjectID, purpose: issued.purpose, context: context)
    }
}
