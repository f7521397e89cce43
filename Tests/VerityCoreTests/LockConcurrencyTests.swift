//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
import VerityCore
import VerityStore
import VerityTestSupport

@Suite("The three-strike lock under concurrency")
struct LockConcurrencyTests {
    @Test func twoHundredConcurrentWrongGuessesGetExactlyThreeEvaluations() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient(pin: "4829157")
        let service = fixture.service
        let outcomes = try await withThrowingTaskGroup(of: VerificationResult.Outcome?.self) { group in
            for guess in 0..<200 {
                group.addTask {
                    let pin = String(format: "%07d", 1_000_000 + guess * 17)
                    do {
                        return try await service.verify(id, SecurityFactors(pin: pin), channel: .phone, context: .verifier).outcome
                    } catch let error as CredentialError where error == .checksInProgress {
                        return nil
                    }
                }
            }
            return try await group.reduce(into: [VerificationResult.Outcome?]()) { $0.append($1) }
        }
        #expect(fixture.hasher.evaluations == 3)
        #expect(outcomes.filter { $0 == .mismatch }.count == 3)
        // The rest were refused unevaluated: while three checks were in flight, or once blocked.
        #expect(outcomes.filter { $0 == .blocked || $0 == nil }.count == 197)
        #expect(try await service.status(of: id).state == .blocked)

        let correct = try await service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        #expect(correct == VerificationResult(.blocked, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == 3)
    }

    @Test func theLimitHoldsAcrossTwoServerInstancesSharingTheDatabase() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient(pin: "4829157")
        // A second instance: its own connection pool on the same file, its own hasher.
        let secondHasher = try CountingHasher()
        let second = try CredentialService(store: try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring), hasher: secondHasher, keyring: secondHasher.keyring)
        let first = fixture.service
        try await withThrowingTaskGroup(of: Void.self) { group in
            for guess in 0..<100 {
                for service in [first, second] {
                    group.addTask {
                        let pin = String(format: "%07d", 2_000_000 + guess)
                        _ = try? await service.verify(id, SecurityFactors(pin: pin), channel: .phone, context: .verifier)
                    }
                }
            }
            try await group.waitForAll()
        }
        // The second instance's hasher holds no pepper of the first, so its evaluations can
        // only mismatch; what matters is how many evaluations happened in all.
        #expect(fixture.hasher.evaluations + secondHasher.evaluations == 3)
        #expect(try await first.status(of: id).state == .blocked)
    }
}
