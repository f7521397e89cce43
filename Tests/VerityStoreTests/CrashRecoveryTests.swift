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
    @Test func aGuessKilledBetweenReservationAndEvaluationIsCounted() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient("crash-1", pin: "4829157")
        try await CrashProbe.killMidCheck(database: fixture.databasePath, subject: id, guessing: "1111112")
        let status = try await fixture.service.status(of: id)
        #expect(status.consecutiveFailures == 1)
        #expect(status.state == .active)
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier)
            == VerificationResult(.mismatch, attemptsRemaining: 1))
    }

    @Test func aThirdGuessKilledMidCheckLeavesTheSubjectLocked() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient("crash-2", pin: "4829157")
        for _ in 0..<2 { _ = try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        try await CrashProbe.killMidCheck(database: fixture.databasePath, subject: id, guessing: "4829157")
        let evaluations = fixture.hasher.evaluations
        // Even the right PIN is not evaluated: the lost third check counts as a failure.
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
        let process = Process()
        process.executableURL = try executable()
        process.arguments = [database, subject.rawValue]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("\(pin)\n".utf8))
        try input.fileHandleForWriting.close()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try await waitForLine("evaluating", from: output.fileHandleForReading.fileDescriptor, timeout: .seconds(30))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    /// Reads `descriptor` until `line` appears, polling so that the wait is bounded.
    private static func waitForLine(_ line: String, from descriptor: Int32, timeout: Duration) async throws {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        let deadline = ContinuousClock.now + timeout
        while !String(decoding: received, as: UTF8.self).contains(line) {
            guard ContinuousClock.now < deadline else { throw TimedOut() }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { throw ProbeExited() }
            received += buffer.prefix(count)
        }
    }

    private static func executable() throws -> URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidates = [testBinary.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for directory in candidates {
            let probe = directory.appendingPathComponent("VerityCrashProbe")
            if FileManager.default.isExecutableFile(atPath: probe.path) { return probe }
        }
        throw ProbeNotBuilt()
    }

    struct ProbeExited: Error {}
    struct ProbeNotBuilt: Error {}
}
