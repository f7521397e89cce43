//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
import VerityCore
import VerityCrypto
import VerityTestSupport

@Suite("Security checks")
struct VerificationTests {
    let fixture: ServiceFixture
    var service: CredentialService { fixture.service }

    init() throws {
        fixture = try ServiceFixture()
    }

    func verify(_ id: SubjectID, pin: String? = nil, password: String? = nil, channel: VerificationChannel = .phone) async throws -> VerificationResult {
        try await service.verify(id, SecurityFactors(pin: pin, password: password), channel: channel, context: .verifier)
    }

    @Test func countsDownThenBlocks() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        #expect(try await verify(id, pin: "1111112") == VerificationResult(.mismatch, attemptsRemaining: 2))
        #expect(try await verify(id, pin: "1111112") == VerificationResult(.mismatch, attemptsRemaining: 1))
        #expect(try await verify(id, pin: "1111112") == VerificationResult(.mismatch, attemptsRemaining: 0, lockedNow: true))
        let evaluated = fixture.hasher.evaluations
        #expect(try await verify(id, pin: "4829157") == VerificationResult(.blocked, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == evaluated)
        #expect(try await service.status(of: id).state == .blocked)
    }

    @Test func aSuccessResetsTheCount() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        _ = try await verify(id, pin: "1111112")
        _ = try await verify(id, pin: "1111112")
        #expect(try await verify(id, pin: "4829157") == VerificationResult(.verified, attemptsRemaining: 3))
        #expect(try await service.status(of: id).consecutiveFailures == 0)
        #expect(try await verify(id, pin: "1111112") == VerificationResult(.mismatch, attemptsRemaining: 2))
    }

    @Test func bothFactorsMustMatchWhenBothAreGiven() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue kettle 1987")
        #expect(try await verify(id, pin: "4829157", password: "Blue kettle 1987").outcome == .verified)
        let before = fixture.hasher.evaluations
        #expect(try await verify(id, pin: "4829157", password: "Red kettle 1987").outcome == .mismatch)
        // Both were evaluated, so timing does not tell which one was wrong.
        #expect(fixture.hasher.evaluations == before + 2)
        #expect(try await verify(id, pin: "1111112", password: "Blue kettle 1987").outcome == .mismatch)
    }

    @Test func thePhoneComparesThePasswordAsSpokenAndThePortalExactly() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue Kettle 1987")
        #expect(try await verify(id, password: "blue kettle 1987", channel: .phone).outcome == .verified)
        #expect(try await verify(id, password: "BLUEKETTLE1987", channel: .phone).outcome == .verified)
        #expect(try await verify(id, password: "Blue Kettle 1987", channel: .portal).outcome == .verified)
        #expect(try await verify(id, password: "blue kettle 1987", channel: .portal).outcome == .mismatch)
        #expect(try await verify(id, password: "BlueKettle1987", channel: .portal).outcome == .mismatch)
    }

    @Test func aFactorNeverSetIsNotSetUpAndCostsNoAttempt() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: nil)
        #expect(try await verify(id, password: "Blue kettle 1987") == VerificationResult(.notSetUp, attemptsRemaining: 0))
        #expect(try await service.status(of: id).consecutiveFailures == 0)
        #expect(fixture.hasher.evaluations == 0)
    }

    @Test func noFactorIsInvalid() async throws {
        let id = try await fixture.activeClient()
        await #expect(throws: CredentialError.self) { try await verify(id) }
    }

    /// Measured on the real KDF, not on a stand-in that counts before forwarding: a decoy that
    /// did no work would fail this.
    @Test func anUnknownSubjectCostsTheSameHashingWork() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue kettle 1987")
        let known = KeyDerivation.Meter()
        _ = try await KeyDerivation.$meter.withValue(known) {
            try await verify(id, pin: "4829157", password: "Blue kettle 1987")
        }
        let unknown = KeyDerivation.Meter()
        let ghost = try SubjectID("ghost")
        await KeyDerivation.$meter.withValue(unknown) {
            await #expect(throws: CredentialError.notFound(ghost)) {
                try await verify(ghost, pin: "4829157", password: "Blue kettle 1987")
            }
        }
        #expect(known.count == 2)
        #expect(unknown.count == known.count)
    }

    /// One factor right under old parameters, the other wrong: no rehash, so timing does not
    /// tell which one matched.
    @Test func nothingIsRehashedUnlessEveryFactorMatched() async throws {
        let keyring = try PepperKeyring.random(keyID: "k1")
        let old = try ServiceFixture(hasher: CountingHasher(derivation: .scrypt(logN: 3, r: 1, p: 1), keyring: keyring))
        let id = try await old.activeClient(pin: "4829157", password: "Blue kettle 1987")
        let hasher = try CountingHasher(derivation: .scrypt(logN: 4, r: 1, p: 1), keyring: keyring)
        let upgraded = try CredentialService(store: old.store, hasher: hasher, keyring: keyring)
        let result = try await upgraded.verify(id, SecurityFactors(pin: "4829157", password: "Wrong kettle 1987"), channel: .portal, context: .verifier)
        #expect(result.outcome == .mismatch)
        #expect(hasher.hashes == 0)
    }

    @Test func aMatchUnderOldParametersIsRehashed() async throws {
        let keyring = try PepperKeyring.random(keyID: "k1")
        let old = try ServiceFixture(hasher: CountingHasher(derivation: .scrypt(logN: 3, r: 1, p: 1), keyring: keyring))
        let id = try await old.activeClient(pin: "4829157")
        // The same database, served by a hasher with higher costs and a rotated pepper.
        let rotated = try keyring.rotated(to: "k2")
        let upgraded = try CredentialService(store: old.store, hasher: try CountingHasher(derivation: .scrypt(logN: 4, r: 1, p: 1), keyring: rotated), keyring: rotated)
        let before = try await old.store.subject(id)?.credentials.pinHash
        #expect(before?.contains("k=k1,ln=3") == true)
        #expect(try await upgraded.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
        let after = try await old.store.subject(id)?.credentials.pinHash
        #expect(after?.contains("k=k2,ln=4") == true)
        #expect(try await upgraded.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
    }

    @Test func changeVerifiesTheCurrentDetailsFirst() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue kettle 1987")
        let both = { (pin: String) in SecurityFactors(pin: pin, password: "Blue kettle 1987") }
        let wrong = try await service.change(id, current: both("1111112"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        #expect(wrong == VerificationResult(.mismatch, attemptsRemaining: 2))
        #expect(try await verify(id, pin: "5937261").outcome == .mismatch)
        let right = try await service.change(id, current: both("4829157"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        #expect(right == VerificationResult(.verified, attemptsRemaining: 3))
        #expect(try await verify(id, pin: "5937261").outcome == .verified)
        #expect(try await verify(id, pin: "4829157").outcome == .mismatch)
    }

    /// One proven factor must not replace the other: every factor on file is proven first.
    @Test func changeNeedsEveryFactorTheSubjectHas() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue kettle 1987")
        let takeover = SecurityFactors(pin: "5937261", password: "Attacker chosen 2024")
        await #expect(throws: CredentialError.invalidArgument(field: "currentPassword", reason: "REQUIRED", message: "the subject has a password: give the current password too")) {
            try await service.change(id, current: SecurityFactors(pin: "4829157"), new: takeover, context: .verifier)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "currentPin", reason: "REQUIRED", message: "the subject has a PIN: give the current PIN too")) {
            try await service.change(id, current: SecurityFactors(password: "Blue kettle 1987"), new: takeover, context: .verifier)
        }
        #expect(fixture.hasher.evaluations == 0)
        #expect(try await service.status(of: id).consecutiveFailures == 0)
        #expect(try await verify(id, pin: "4829157").outcome == .verified)
        #expect(try await service.verify(id, SecurityFactors(password: "Blue kettle 1987"), channel: .portal, context: .verifier).outcome == .verified)
    }

    @Test func aRepresentativeCannotChangeTheirOwnDetails() async throws {
        let client = try await fixture.activeClient("case-1/client", pin: "4829157")
        let representative = try SubjectID("case-1/rep")
        _ = try await service.enroll(representative, kind: .representative, representing: client, context: .agent)
        _ = try await service.setSecurityDetails(representative, SecurityFactors(pin: "5937261"), context: .agent)
        await #expect(throws: CredentialError.failedPrecondition(reason: "REPRESENTATIVE", message: "a representative's details are set by a caseworker, not changed by self-service")) {
            try await service.change(representative, current: SecurityFactors(pin: "5937261"), new: SecurityFactors(pin: "6148203"), context: .verifier)
        }
        #expect(fixture.hasher.evaluations == 0)
    }

    /// A whitespace password's spoken form is empty: it must not pass a phone check as "".
    @Test func blankFactorsAreRefusedAndNeverCompared() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        await #expect(throws: CredentialError.invalidArgument(field: "password", reason: "TOO_SHORT", message: "a password has at least 8 characters as spoken, without spaces")) {
            try await service.setSecurityDetails(id, SecurityFactors(password: "Ab          "), context: .agent)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "password", reason: "EMPTY", message: "password is empty or only spaces")) {
            try await service.setSecurityDetails(id, SecurityFactors(password: "        "), context: .agent)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "password", reason: "EMPTY", message: "password is empty or only spaces")) {
            try await service.verify(id, SecurityFactors(password: ""), channel: .phone, context: .verifier)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "pin", reason: "EMPTY", message: "pin is empty or only spaces")) {
            try await service.verify(id, SecurityFactors(pin: " \t"), channel: .phone, context: .verifier)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "currentPin", reason: "EMPTY", message: "currentPin is empty or only spaces")) {
            try await service.change(id, current: SecurityFactors(pin: ""), new: SecurityFactors(pin: "5937261"), context: .verifier)
        }
        #expect(fixture.hasher.evaluations == 0)
    }

    @Test func aRefusedNewDetailCostsNoAttempt() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        await #expect(throws: CredentialError.invalidArgument(field: "newPin", reason: "SEQUENCE", message: "a PIN cannot be a straight run of digits up or down")) {
            try await service.change(id, current: SecurityFactors(pin: "1111112"), new: SecurityFactors(pin: "2345678"), context: .verifier)
        }
        #expect(try await service.status(of: id).consecutiveFailures == 0)
        #expect(fixture.hasher.evaluations == 0)
    }

    @Test func failedChangesCountTowardsTheSameLock() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: nil)
        _ = try await verify(id, pin: "1111112")
        _ = try await service.change(id, current: SecurityFactors(pin: "1111112"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        let third = try await service.change(id, current: SecurityFactors(pin: "1111112"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        #expect(third == VerificationResult(.mismatch, attemptsRemaining: 0, lockedNow: true))
        #expect(try await service.change(id, current: SecurityFactors(pin: "4829157"), new: SecurityFactors(pin: "5937261"), context: .verifier).outcome == .blocked)
    }

    /// Three checks still in flight hold every attempt: a fourth is refused without blocking
    /// anyone; only once they are older than any live check can be are they counted as lost.
    @Test func checksInFlightAreNotLostUntilTheyOutliveTheLongestCheck() async throws {
        let clock = TestClock()
        let fixture = try ServiceFixture(now: clock.closure)
        let id = try await fixture.activeClient(pin: "4829157")
        // Three reservations whose checks never finished, as after three crashes mid-check.
        for n in 0..<3 {
            try await fixture.store.modify(id) { subject in
                let reservation = CheckLock.reserve(&subject, check: "crashed-\(n)", slots: [.pin], now: clock.now, limit: 3, longestCheck: 120)
                return SubjectModification(reservation.decision, audit: [])
            }
        }
        await #expect(throws: CredentialError.checksInProgress) { try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier) }
        #expect(try await fixture.service.status(of: id).state == .active)
        clock.advance(by: 121)
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier) == VerificationResult(.blocked, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == 0)
        let status = try await fixture.service.status(of: id)
        #expect(status.state == .blocked)
        #expect(status.blockReason == CheckLock.lostReason)
        let events = try await fixture.service.auditEvents(for: id)
        #expect(events.filter { $0.outcome == "LOST" }.count == 3)
    }
}

/// What happens when a stored credential cannot be evaluated after the attempt was reserved.
@Suite("Errors after the reservation")
struct EvaluationErrorTests {
    /// Puts `hash` in place of the subject's PIN hash, as a restore from another system might.
    func subject(withPINHash hash: String, _ fixture: ServiceFixture) async throws -> SubjectID {
        let id = try await fixture.activeClient("broken-1", pin: "4829157")
        try await fixture.store.modify(id) { subject in
            subject.credentials.pinHash = hash
            return SubjectModification((), audit: [])
        }
        return id
    }

    @Test(arguments: [
        "$hmac-sha256-scrypt$v=2$k=gone,ln=4,r=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$hmac-sha256-scrypt$v=2$k=k1,ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "not a hash",
    ])
    func isCountedAuditedAndAnsweredInternal(_ hash: String) async throws {
        let fixture = try ServiceFixture()
        let id = try await subject(withPINHash: hash, fixture)
        await #expect(throws: CredentialError.credentialIntegrity) {
            try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        }
        #expect(try await fixture.service.status(of: id).consecutiveFailures == 1)
        let error = try #require(try await fixture.service.auditEvents(for: id).last)
        #expect(error.outcome == "ERROR")
        #expect(error.facts.first?.hasPrefix("not evaluated: PIN: ") == true)
        #expect(!error.facts.joined().contains("4829157") && !error.facts.joined().contains(hash))
    }

    /// A rehash that fails leaves the old hash and still answers VERIFIED.
    @Test func aFailedRehashNeverTurnsARightSecretIntoAFailure() async throws {
        let old = try ServiceFixture()
        let id = try await old.activeClient("rehash-1", pin: "4829157")
        let refusing = RefusingToHash(old.hasher)
        let service = try CredentialService(store: old.store, hasher: refusing, keyring: old.hasher.keyring)
        #expect(try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
        #expect(try await service.status(of: id).consecutiveFailures == 0)
    }
}

/// Verifies with another hasher, always asks for a rehash, and cannot hash.
struct RefusingToHash: SecretHashing {
    let inner: CountingHasher
    init(_ inner: CountingHasher) { self.inner = inner }
    struct Refused: Error {}
    func hash(_ secret: String) throws -> String { throw Refused() }
    func verify(_ secret: String, against encoded: String) throws -> SecretMatch {
        try inner.verify(secret, against: encoded) == .mismatch ? .mismatch : .match(needsRehash: true)
    }
    func performDecoyVerification(of secret: String) {}
}
