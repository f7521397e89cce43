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
        #expect(try await verify(id, pin: "1111112") == VerificationResult(.mismatch, attemptsRemaining: 0))
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

    @Test func anUnknownSubjectCostsTheSameHashingWork() async throws {
        await #expect(throws: CredentialError.notFound(try SubjectID("ghost"))) {
            try await verify(try SubjectID("ghost"), pin: "4829157", password: "Blue kettle 1987")
        }
        #expect(fixture.hasher.decoys == 2)
    }

    @Test func aMatchUnderOldParametersIsRehashed() async throws {
        let keyring = try PepperKeyring.random(keyID: "k1")
        let old = try ServiceFixture(hasher: CountingHasher(derivation: .scrypt(logN: 3, r: 1, p: 1), keyring: keyring))
        let id = try await old.activeClient(pin: "4829157")
        // The same database, served by a hasher with higher costs and a rotated pepper.
        let rotated = try keyring.rotated(to: "k2")
        let upgraded = CredentialService(store: old.store, hasher: try CountingHasher(derivation: .scrypt(logN: 4, r: 1, p: 1), keyring: rotated), keyring: rotated)
        let before = try await old.store.subject(id)?.credentials.pinHash
        #expect(before?.contains("k=k1,ln=3") == true)
        #expect(try await upgraded.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
        let after = try await old.store.subject(id)?.credentials.pinHash
        #expect(after?.contains("k=k2,ln=4") == true)
        #expect(try await upgraded.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
    }

    @Test func changeVerifiesTheCurrentDetailsFirst() async throws {
        let id = try await fixture.activeClient(pin: "4829157", password: "Blue kettle 1987")
        let wrong = try await service.change(id, current: SecurityFactors(pin: "1111112"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        #expect(wrong == VerificationResult(.mismatch, attemptsRemaining: 2))
        #expect(try await verify(id, pin: "5937261").outcome == .mismatch)
        let right = try await service.change(id, current: SecurityFactors(pin: "4829157"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        #expect(right == VerificationResult(.verified, attemptsRemaining: 3))
        #expect(try await verify(id, pin: "5937261").outcome == .verified)
        #expect(try await verify(id, pin: "4829157").outcome == .mismatch)
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
        let id = try await fixture.activeClient(pin: "4829157")
        _ = try await verify(id, pin: "1111112")
        _ = try await service.change(id, current: SecurityFactors(pin: "1111112"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        let third = try await service.change(id, current: SecurityFactors(pin: "1111112"), new: SecurityFactors(pin: "5937261"), context: .verifier)
        #expect(third == VerificationResult(.mismatch, attemptsRemaining: 0))
        #expect(try await service.change(id, current: SecurityFactors(pin: "4829157"), new: SecurityFactors(pin: "5937261"), context: .verifier).outcome == .blocked)
    }

    @Test func anAttemptLeftAtTheLimitByACrashBlocksOnTheNextCheck() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        // Three reservations whose checks never finished, as after three crashes mid-check.
        for _ in 0..<3 { _ = try await fixture.store.reserveAttempt(id, limit: 3) }
        #expect(try await service.status(of: id).state == .active)
        #expect(try await verify(id, pin: "4829157") == VerificationResult(.blocked, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == 0)
        let status = try await service.status(of: id)
        #expect(status.state == .blocked)
        #expect(status.blockReason == "attempt limit reached; the last check's outcome was lost")
    }
}
