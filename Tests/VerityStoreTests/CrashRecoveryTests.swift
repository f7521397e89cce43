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
import VerityStore
import VerityTestSupport

@Suite("A check cut off by a crash")
struct CrashRecoveryTests {
    /// The killed check holds its attempt while it could still be running, and counts as a
    /// failure once it is older than the longest a check can take.
    @Test func aGuessKilledBetweenReservationAndEvaluationIsCounted() async throws {
        let clock = TestClock(Date())
        let fixture = try ServiceFixture(now: clock.closure)
        let id = try await fixture.activeClient("crash-1", pin: "4829157")
        try await CrashProbe.killMidCheck(database: fixture.databasePath, subject: id, guessing: "1111112")
        #expect(try await fixture.store.subject(id)?.pendingChecks.count == 1)
        clock.advance(by: CredentialService.Configuration().longestCheck + 60)
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier)
            == VerificationResult(.mismatch, attemptsRemaining: 1))
        let status = try await fixture.service.status(of: id)
        #expect(status.consecutiveFailures == 2)
        #expect(status.state == .active)
        #expect(try await fixture.service.auditEvents(for: id).contains { $0.outcome == "LOST" })
    }

    @Test func aThirdGuessKilledMidCheckLeavesTheSubjectLocked() async throws {
        let clock = TestClock(Date())
        let fixture = try ServiceFixture(now: clock.closure)
        let id = try await fixture.activeClient("crash-2", pin: "4829157")
        for _ in 0..<2 { _ = try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        try await CrashProbe.killMidCheck(database: fixture.databasePath, subject: id, guessing: "4829157")
        let evaluations = fixture.hasher.evaluations
        // Even the right PIN is not evaluated while the killed check holds the last attempt...
        await #expect(throws: CredentialError.checksInProgress) {
            try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        }
        // ...and once that check is known to be lost, it counts as the third failure.
        clock.advance(by: CredentialService.Configuration().longestCheck + 60)
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
            == VerificationResult(.blocked, attemptsRemaining: 0))
        #expect(fixture.hasher.evaluations == evaluations)
        #expect(try await fixture.service.status(of: id).state == .blocked)
    }
}

/// Runs the `VerityCrashProbe` executable, built beside the tests, and kills it with SIGKILL
/// once it has reserved an attempt and started evaluating the secret.
enum CrashProbe {
    static func killMidCheck(database: String, subject: SubjectID, guessing pin: String) async throws {
        let probe = try ChildProcess(try executable(), [database, subject.rawValue])
        probe.send("\(pin)\n")
        try probe.closeInput()
        try await probe.waitForOutput(containing: "evaluating")
        probe.signal(SIGKILL)
        #expect(try await probe.waitForExit().reason == .uncaughtSignal)
    }

    private static func executable() throws -> URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let probe = testBinary.deletingLastPathComponent().appendingPathComponent("VerityCrashProbe")
        guard FileManager.default.isExecutableFile(atPath: probe.path) else { throw ProbeNotBuilt() }
        return probe
    }

    struct ProbeNotBuilt: Error {}
}
