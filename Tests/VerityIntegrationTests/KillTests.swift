//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTLS
import VerityTestSupport

/// verityd killed with SIGKILL mid-flood, ten times, on the same store: what it acknowledged
/// before dying must still be there when it comes back.
@Suite("kill -9 under load")
struct KillTests {
    /// A verityd on the store in `data`, and its port.
    struct Life {
        let process: ChildProcess
        let port: Int
        let pki: DevelopmentPKI

        init(_ data: String) async throws {
            process = try ChildProcess(VeritydProcessTests.verityd, [
                "--listen", "127.0.0.1:0", "--data-dir", data, "--metrics-listen", "off", "--scrypt-log-n", "10", "--log-level", "notice",
            ])
            port = try await VeritydProcessTests.servingPort(of: process)
            pki = DevelopmentPKI(existingIn: URL(fileURLWithPath: data).appendingPathComponent("pki"))
        }

        func connect(as role: String) async throws -> TestConnection {
            try await TestConnection.open(port: port, pki: pki, role: role, issuer: nil, alpn: ["verity/1"])
        }
    }

    @Test func whatWasAcknowledgedSurvivesTenKills() async throws {
        let directory = try TemporaryDirectory("verityd-kill")
        let data = directory.path("data")
        var acknowledgedFailures: [String: Int] = [:]
        var acknowledgedCodes = 0
        var delivered = 0
        var life = try await Life(data)
        for round in 0..<10 {
            let agent = try await life.connect(as: "agent")
            let notifier = try await life.connect(as: "notifier")
            // What the last life acknowledged: its codes wait in the outbox, its failures are counted.
            let leased = try await notifier.call("verity.v1.Notifications/Lease", ["max": 100, "leaseSeconds": 3600])
            delivered += (leased.body?["deliveries"] as? [Any])?.count ?? 0
            #expect(delivered >= acknowledgedCodes, "round \(round): \(acknowledgedCodes) codes acknowledged, \(delivered) delivered")
            for (subject, failures) in acknowledgedFailures {
                let counted = try await agent.call("verity.v1.Subjects/GetStatus", ["subjectId": subject]).body?["consecutiveFailures"] as? Int ?? 0
                #expect(counted >= failures, "\(subject): \(failures) failures acknowledged, \(counted) counted")
            }
            let admin = try await life.connect(as: "admin")
            #expect(try await admin.call("verity.v1.Admin/VerifyAuditChain").body?["ok"] as? Bool == true)

            // This life: ten subjects, two wrong guesses each and a code each, all at once.
            let subjects = (0..<10).map { "kill-\(round)-\($0)" }
            for subject in subjects {
                _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": subject, "kind": "CLIENT", "contacts": ["emails": ["\(subject)@example.org"]]])
                _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": subject, "pin": "4829157"])
            }
            let flood = try await life.connect(as: "agent")
            var bytes: [UInt8] = []
            var requests: [(id: Int64, subject: String, isCode: Bool)] = []
            for (index, subject) in subjects.enumerated() {
                for guess in 0..<2 {
                    let id = Int64(index * 3 + guess + 1)
                    requests.append((id, subject, false))
                    bytes += TestConnection.frame(Array(TestConnection.request(
                        id: id, method: "verity.v1.Credentials/Verify", message: ["subjectId": subject, "pin": "111111\(guess + 2)", "channel": "PHONE"]
                    ).utf8))
                }
                let id = Int64(index * 3 + 3)
                requests.append((id, subject, true))
                bytes += TestConnection.frame(Array(TestConnection.request(
                    id: id, method: "verity.v1.Mfa/IssueCode", message: ["subjectId": subject, "channel": "EMAIL", "purpose": "STEP_UP"]
                ).utf8))
            }
            try await flood.send(bytes: bytes)
            try await waitUntil { flood.frames.count >= 5 + round }
            life.process.signal(SIGKILL)
            _ = try await life.process.waitForExit()
            for request in requests {
                guard let answer = flood.arrivedResponse(id: request.id), answer.code == 0 else { continue }
                if request.isCode {
                    acknowledgedCodes += 1
                } else if answer.body?["result"] as? String == "MISMATCH" {
                    acknowledgedFailures[request.subject, default: 0] += 1
                }
            }
            life = try await Life(data)
        }
        print("kill -9: 10 kills; \(acknowledgedFailures.values.reduce(0, +)) failures and \(acknowledgedCodes) codes acknowledged before the kills, all found after")
        life.process.signal(SIGTERM)
        _ = try await life.process.waitForExit(timeout: .seconds(60))
    }
}
