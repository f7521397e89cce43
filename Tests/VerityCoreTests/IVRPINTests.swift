//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
@testable import VerityCore
import VerityTestSupport

@Suite("IVR PINs")
struct IVRPINTests {
    /// 200,000 draws: enough for a modulo bias of `byte % 10` (digits 0–5 at 26/256 against
    /// 25.6/256) to give a chi-square near 70, with a threshold that a fair generator crosses in
    /// one run out of a billion (so the test does not fail by chance).
    @Test func generatedPINsAreUniformAndNeverWeak() {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 6)
        let draws = 200_000
        var weak = 0
        for _ in 0..<draws {
            let pin = Array(CredentialService.drawIVRPIN(length: 6).utf8)
            if pin.count != 6 || Set(pin).count == 1 || DigitPatterns.isStraightRun(pin) { weak += 1 }
            for (position, digit) in pin.enumerated() { counts[position][Int(digit - UInt8(ascii: "0"))] += 1 }
        }
        #expect(weak == 0)
        // Chi-square with 9 degrees of freedom for each position; P(X > 60) is 1.3e-9.
        let expected = Double(draws) / 10
        for position in 0..<6 {
            let chiSquare = counts[position].reduce(0) { $0 + pow(Double($1) - expected, 2) / expected }
            #expect(chiSquare < 60, "position \(position) is not uniform: chi-square \(chiSquare)")
        }
    }

    @Test func theLengthIsConfigurable() async throws {
        var configuration = CredentialService.Configuration()
        configuration.ivrPINLength = 8
        let fixture = try ServiceFixture(configuration: configuration)
        let id = try await fixture.activeClient()
        #expect(try await fixture.service.generateIVRPIN(for: id, context: .agent).pin.count == 8)
    }

    @Test func generatingAgainReplacesTheOldPINAndShowsWhen() async throws {
        let clock = TestClock()
        let fixture = try ServiceFixture(now: clock.closure)
        let id = try await fixture.activeClient()
        let first = try await fixture.service.generateIVRPIN(for: id, context: .agent)
        clock.advance(by: 60)
        let second = try await fixture.service.generateIVRPIN(for: id, context: .agent)
        #expect(second.updatedAt == clock.now)
        #expect(try await fixture.service.status(of: id).ivrPINUpdatedAt == clock.now)
        if first.pin != second.pin {
            #expect(try await fixture.service.verifyIVRPIN(id, pin: first.pin, context: .agent).outcome == .mismatch)
        }
        #expect(try await fixture.service.verifyIVRPIN(id, pin: second.pin, context: .agent) == VerificationResult(.verified, attemptsRemaining: 3))
        let facts = try await fixture.service.auditEvents(for: id).filter { $0.action == .generateIVRPIN }.map(\.facts)
        #expect(facts == [["IVR PIN generated"], ["IVR PIN replaced"]])
    }

    @Test func ivrFailuresShareTheLockWithOtherChecks() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient(pin: "4829157")
        let pin = try await fixture.service.generateIVRPIN(for: id, context: .agent).pin
        _ = try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier)
        #expect(try await fixture.service.verifyIVRPIN(id, pin: "000000", context: .agent) == VerificationResult(.mismatch, attemptsRemaining: 1))
        #expect(try await fixture.service.verifyIVRPIN(id, pin: "000000", context: .agent) == VerificationResult(.mismatch, attemptsRemaining: 0, lockedNow: true))
        let evaluations = fixture.hasher.evaluations
        #expect(try await fixture.service.verifyIVRPIN(id, pin: pin, context: .agent).outcome == .blocked)
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .blocked)
        #expect(fixture.hasher.evaluations == evaluations)
        await #expect(throws: CredentialError.blockedSubject) { try await fixture.service.generateIVRPIN(for: id, context: .agent) }
    }

    @Test func withoutAnIVRPINTheCheckIsNotSetUp() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient()
        #expect(try await fixture.service.verifyIVRPIN(id, pin: "482915", context: .agent) == VerificationResult(.notSetUp, attemptsRemaining: 0))
        #expect(try await fixture.service.status(of: id).consecutiveFailures == 0)
    }

    @Test func aNotSetUpSubjectCanGetAnIVRPIN() async throws {
        let fixture = try ServiceFixture()
        let id = try SubjectID("ivr-only")
        _ = try await fixture.service.enroll(id, kind: .client, context: .agent)
        let generated = try await fixture.service.generateIVRPIN(for: id, context: .agent)
        #expect(generated.pin.count == 6)
        await #expect(throws: CredentialError.notFound(try SubjectID("ghost"))) {
            try await fixture.service.generateIVRPIN(for: try SubjectID("ghost"), context: .agent)
        }
    }

    /// Procedure 001: a person whose only secret is the generated IVR PIN.
    @Test func anIVROnlySubjectVerifiesCountsFailuresAndIsBlockedAfterThree() async throws {
        let fixture = try ServiceFixture()
        let id = try SubjectID("ivr-only")
        _ = try await fixture.service.enroll(id, kind: .client, context: .agent)
        let pin = try await fixture.service.generateIVRPIN(for: id, context: .agent).pin
        #expect(try await fixture.service.status(of: id).state == .active)
        #expect(try await fixture.service.verifyIVRPIN(id, pin: pin, context: .agent).outcome == .verified)
        let wrong = pin == "000000" ? "111111" : "000000"
        #expect(try await fixture.service.verifyIVRPIN(id, pin: wrong, context: .agent) == VerificationResult(.mismatch, attemptsRemaining: 2))
        #expect(try await fixture.service.verifyIVRPIN(id, pin: wrong, context: .agent) == VerificationResult(.mismatch, attemptsRemaining: 1))
        #expect(try await fixture.service.verifyIVRPIN(id, pin: wrong, context: .agent) == VerificationResult(.mismatch, attemptsRemaining: 0, lockedNow: true))
        #expect(try await fixture.service.status(of: id).state == .blocked)
        #expect(try await fixture.service.verifyIVRPIN(id, pin: pin, context: .agent).outcome == .blocked)
        // A PIN check of someone with no PIN evaluates nothing and counts nothing.
        #expect(fixture.hasher.evaluations == 4)
    }

    @Test func aSubjectWhoRefusedVerifiesNothingEvenWithAnIVRPIN() async throws {
        let fixture = try ServiceFixture()
        let id = try SubjectID("refused")
        _ = try await fixture.service.enroll(id, kind: .client, context: .agent)
        _ = try await fixture.service.applyDefaults(id, context: .agent)
        let pin = try await fixture.service.generateIVRPIN(for: id, context: .agent).pin
        #expect(try await fixture.service.status(of: id).state == .defaultsApplied)
        #expect(try await fixture.service.verifyIVRPIN(id, pin: pin, context: .agent) == VerificationResult(.notSetUp, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == 0)
    }
}
