//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityClient
import VerityProtocol
import VerityTestSupport

/// The Swift client when things go wrong: every pending call ends, with the right status, in time.
@Suite("VerityClient failure paths")
struct VerityClientFailureTests {
    /// A server whose hashing waits at a gate, and a subject whose SetSecurityDetails will wait there.
    func heldServer() async throws -> (TestServer, GatedHasher) {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) })
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "held", "kind": "CLIENT"])
        return (server, gate.value)
    }

    @Test func aCallWithNoAnswerEndsAtItsDeadlinePlusTheGrace() async throws {
        let (server, gate) = try await heldServer()
        let client = server.client(role: "agent") { $0.localTimeoutGrace = .milliseconds(200) }
        let started = ContinuousClock.now
        await #expect { _ = try await client.setSecurityDetails(subjectId: "held", pin: "4829157", timeout: .milliseconds(300)) } throws: {
            ($0 as? RPCError)?.code == .deadlineExceeded
        }
        // Not before: 500 ms must not be cut to 0 (Duration's seconds alone).
        #expect(ContinuousClock.now - started >= .milliseconds(450))
        #expect(ContinuousClock.now - started < .seconds(15))
        gate.openGate()
        await client.close()
        try await server.stop()
    }

    /// The server reports a protocol violation (id 0) and closes: every call waiting on the
    /// connection fails with that status.
    @Test func aViolationFailsEveryPendingCall() async throws {
        let (server, gate) = try await heldServer()
        let client = server.client(role: "agent")
        let pending = Task { try await client.setSecurityDetails(subjectId: "held", pin: "4829157") }
        try await waitUntil { gate.waitingJobs == 1 }
        let tooLarge = String(repeating: "x", count: 70_000)
        await #expect { _ = try await client.getStatus(subjectId: tooLarge) } throws: {
            ($0 as? RPCError)?.details["reason"]?.stringValue == "FRAME_TOO_LARGE"
        }
        await #expect { _ = try await pending.value } throws: { ($0 as? RPCError)?.details["reason"]?.stringValue == "FRAME_TOO_LARGE" }
        gate.openGate()
        #expect(try await client.healthCheck() == "SERVING", "the client reconnects after a failed connection")
        await client.close()
        try await server.stop()
    }

    @Test func closingFailsTheCallsInFlight() async throws {
        let (server, gate) = try await heldServer()
        let client = server.client(role: "agent")
        let pending = Task { try await client.setSecurityDetails(subjectId: "held", pin: "4829157") }
        try await waitUntil { gate.waitingJobs == 1 }
        await client.close()
        await #expect { _ = try await pending.value } throws: { ($0 as? RPCError)?.code == .unavailable }
        gate.openGate()
        try await server.stop()
    }

    @Test func unusableCertificateFilesAreAFailedPrecondition() async throws {
        let server = try await TestServer.start()
        let client = server.client(role: "agent") { $0.privateKeyPath = "/nonexistent/key.pem" }
        await #expect { _ = try await client.healthCheck() } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        try await server.stop()
    }

    /// A server whose certificate does not name the host asked for is refused, at once.
    @Test func aServerNameMismatchFailsFast() async throws {
        let server = try await TestServer.start()
        let client = server.client(role: "agent") { $0.serverName = "verity.example.org" }
        let started = ContinuousClock.now
        await #expect { _ = try await client.healthCheck() } throws: { ($0 as? RPCError)?.code == .unavailable }
        // Well before the call's local timeout (65 s): the handshake failure ends it.
        #expect(ContinuousClock.now - started < .seconds(30))
        try await server.stop()
    }
}
