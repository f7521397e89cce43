//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTestSupport

/// A compromised or buggy caller must not lock people out en masse, nor unnoticed.
@Suite("Limits per caller and the lock alarm")
struct CallerLimitTests {
    @Test func checksArePacedPerCaller() async throws {
        let server = try await TestServer.start { $0.checksPerMinutePerCaller = 5 }
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "p-1", "kind": "CLIENT"])
        _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": "p-1", "pin": "4829157"])
        let verifier = try await server.connect(as: "verifier")
        for _ in 0..<5 {
            #expect(try await verifier.call("verity.v1.Credentials/Verify", ["subjectId": "p-1", "pin": "4829157", "channel": "PHONE"]).code == 0)
        }
        let paced = try await verifier.call("verity.v1.Credentials/Verify", ["subjectId": "p-1", "pin": "1111112", "channel": "PHONE"])
        #expect(paced.code == 8 && paced.details?["reason"] as? String == "CALLER_RATE_LIMITED")
        #expect((paced.details?["retryAfterSeconds"] as? Int ?? 0) > 0)
        // Another caller has its own budget, and the paced check counted nothing.
        #expect(try await agent.call("verity.v1.Credentials/Verify", ["subjectId": "p-1", "pin": "4829157", "channel": "PHONE"]).code == 0)
        #expect(try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": "p-1"]).body?["consecutiveFailures"] as? Int == 0)
        try await server.stop()
    }

    @Test func oneCallerLockingManyOutRaisesTheAlarm() async throws {
        let server = try await TestServer.start { $0.lockAlarmThreshold = 2 }
        let agent = try await server.connect(as: "agent")
        let verifier = try await server.connect(as: "verifier")
        for id in ["a-1", "a-2"] {
            _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": id, "kind": "CLIENT"])
            _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": id, "pin": "4829157"])
            #expect(!server.logs.text.contains("LOCK ALARM"))
            for _ in 0..<3 { _ = try await verifier.call("verity.v1.Credentials/Verify", ["subjectId": id, "pin": "1111112", "channel": "PHONE"]) }
        }
        try await waitUntil { server.logs.text.contains("LOCK ALARM") }
        #expect(server.logs.text.contains("caller=dev-verifier"))
        try await server.stop()
    }
}
