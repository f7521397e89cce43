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
import VerityProtocol
import VerityServer
import VerityTestSupport

@Suite("Every method through a real TLS connection")
struct ServerMethodsTests {
    @Test func theWholeStoryOfOneSubject() async throws {
        let server = try await TestServer.start()
        let agent = try await server.connect(as: "agent")
        let admin = try await server.connect(as: "admin")
        let portal = try await server.connect(as: "verifier")
        let subject = "case-7/PWC"

        #expect(try await agent.call("verity.v1.Health/Check").body?["status"] as? String == "SERVING")
        let enrolled = try await agent.call("verity.v1.Subjects/Enroll", [
            "subjectId": subject, "kind": "CLIENT",
            "contacts": ["emails": ["pat@example.org"], "phones": [["number": "+1 602 555 0100", "type": "CELL"]]],
        ])
        #expect(enrolled.body?["state"] as? String == "NOT_SET_UP")
        #expect(try await agent.call("verity.v1.Subjects/UpdateContacts", ["subjectId": subject, "contacts": ["emails": ["pat@example.net"]]]).code == 0)
        #expect(try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": subject, "pin": "4829157", "password": "Blue kettle 1987"]).body?["state"] as? String == "ACTIVE")
        let verified = try await portal.call("verity.v1.Credentials/Verify", ["subjectId": subject, "password": "Blue kettle 1987", "channel": "PORTAL"])
        #expect(verified.body?["result"] as? String == "VERIFIED")
        #expect(verified.body?["attemptsRemaining"] as? Int == 3)
        let changed = try await portal.call("verity.v1.Credentials/Change", ["subjectId": subject, "currentPin": "4829157", "currentPassword": "Blue kettle 1987", "newPin": "5937261"])
        #expect(changed.body?["result"] as? String == "VERIFIED")
        for remaining in [2, 1, 0] {
            let wrong = try await portal.call("verity.v1.Credentials/Verify", ["subjectId": subject, "pin": "4829157", "channel": "PHONE"])
            #expect(wrong.body?["result"] as? String == "MISMATCH")
            #expect(wrong.body?["attemptsRemaining"] as? Int == remaining)
        }
        let status = try await portal.call("verity.v1.Subjects/GetStatus", ["subjectId": subject])
        #expect(status.body?["state"] as? String == "BLOCKED")
        #expect(status.body?["blockedAt"] is String)
        #expect(status.body?["hasPin"] as? Bool == true)
        let refused = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": subject, "pin": "6150283"])
        #expect(refused.code == 9)
        #expect(refused.details?["reason"] as? String == "BLOCKED")
        #expect(try await admin.call("verity.v1.Admin/Unblock", ["subjectId": subject, "reason": "confirmed by phone"]).body?["state"] as? String == "ACTIVE")
        #expect(try await agent.call("verity.v1.Credentials/ApplyDefaults", ["subjectId": subject]).body?["state"] as? String == "DEFAULTS_APPLIED")
        let notSetUp = try await portal.call("verity.v1.Credentials/Verify", ["subjectId": subject, "pin": "5937261", "channel": "PHONE"])
        #expect(notSetUp.body?["result"] as? String == "NOT_SET_UP")

        let audit = try await admin.call("verity.v1.Admin/ListAudit", ["subjectId": subject, "limit": 5])
        let events = try #require(audit.body?["events"] as? [[String: Any]])
        #expect(events.count == 5)
        #expect(events.first?["action"] as? String == "ENROLL")
        #expect(events.first?["caller"] as? String == "dev-agent")
        let next = try #require(audit.body?["nextAfterSeq"] as? Int)
        let rest = try await admin.call("verity.v1.Admin/ListAudit", ["subjectId": subject, "afterSeq": next, "limit": 1000])
        #expect(((rest.body?["events"] as? [[String: Any]])?.count ?? 0) > 5)
        let chain = try await admin.call("verity.v1.Admin/VerifyAuditChain")
        #expect(chain.body?["ok"] as? Bool == true)
        #expect((chain.body?["headHash"] as? String)?.count == 64)
        try await server.stop()
    }

    @Test func ivrPINsCodesAndTheOutbox() async throws {
        let server = try await TestServer.start()
        let agent = try await server.connect(as: "agent")
        let ivr = try await server.connect(as: "ivr")
        let portal = try await server.connect(as: "verifier")
        let mailer = try await server.connect(as: "notifier")
        let subject = "case-8/PWC"
        _ = try await agent.call("verity.v1.Subjects/Enroll", [
            "subjectId": subject, "kind": "CLIENT",
            "contacts": ["emails": ["pat@example.org"], "phones": [["number": "602 555 0100", "type": "TDD"]]],
        ])
        _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": subject, "pin": "4829157"])

        let generated = try #require(try await agent.call("verity.v1.Ivr/GeneratePin", ["subjectId": subject]).body)
        let pin = try #require(generated["pin"] as? String)
        #expect(pin.count == 6)
        #expect(try await ivr.call("verity.v1.Ivr/VerifyPin", ["subjectId": subject, "pin": pin]).body?["result"] as? String == "VERIFIED")
        let status = try await ivr.call("verity.v1.Subjects/GetStatus", ["subjectId": subject])
        #expect(status.body?["ivrPinUpdatedAt"] as? String == generated["updatedAt"] as? String)

        let noText = try await portal.call("verity.v1.Mfa/IssueCode", ["subjectId": subject, "channel": "SMS", "purpose": "STEP_UP"])
        #expect(noText.code == 9)
        #expect(noText.details?["reason"] as? String == "NO_ELIGIBLE_CONTACT")
        let issued = try #require(try await portal.call("verity.v1.Mfa/IssueCode", ["subjectId": subject, "channel": "EMAIL", "purpose": "PASSWORD_RESET"]).body)
        #expect(issued["maskedDestination"] as? String == "p***@example.org")
        #expect(issued["code"] == nil)
        let leased = try #require(try await mailer.call("verity.v1.Notifications/Lease", ["max": 10, "leaseSeconds": 60]).body?["deliveries"] as? [[String: Any]])
        let delivery = try #require(leased.first)
        #expect(delivery["template"] as? String == "CODE_PASSWORD_RESET")
        #expect(delivery["destination"] as? String == "pat@example.org")
        let variables = try #require(delivery["variables"] as? [String: String])
        let code = try #require(variables["code"])
        #expect(variables["expiresAt"] == issued["expiresAt"] as? String)
        let challengeID = try #require(issued["challengeId"] as? String)
        let verified = try await portal.call("verity.v1.Mfa/VerifyCode", ["challengeId": challengeID, "code": code, "subjectId": subject, "purpose": "PASSWORD_RESET"])
        #expect(verified.body?["result"] as? String == "VERIFIED")
        #expect(verified.body?["subjectId"] as? String == subject)
        #expect(verified.body?["purpose"] as? String == "PASSWORD_RESET")
        let ack: [String: Any] = ["deliveryId": try #require(delivery["deliveryId"] as? String), "leaseToken": try #require(delivery["leaseToken"] as? String), "outcome": "SENT"]
        #expect(try await mailer.call("verity.v1.Notifications/Ack", ack).code == 0)
        #expect(try await mailer.call("verity.v1.Notifications/Ack", ack).code == 5)
        #expect(!server.logs.text.contains(code) && !server.logs.text.contains(pin))
        try await server.stop()
    }

    @Test func requestsOnOneConnectionRunConcurrentlyAndAnswersComeAsTheyFinish() async throws {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) })
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "slow", "kind": "CLIENT"])
        // A hashing call held at a gate, then a cheap one: the cheap answer overtakes the slow one.
        try await agent.send(json: TestConnection.request(id: 1, method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "slow", "pin": "4829157"]))
        try await waitUntil { gate.value.waitingJobs == 1 }
        try await agent.send(json: TestConnection.request(id: 2, method: "verity.v1.Health/Check"))
        try await agent.waitForFrames(2)
        gate.value.openGate()
        try await agent.waitForFrames(3)
        let order = agent.frames.compactMap { ($0["id"] as? NSNumber)?.int64Value }
        #expect(order.suffix(2) == [2, 1])
        try await server.stop()
    }
}

@Suite("Refusals, actors and store failures")
struct RefusalTests {
    @Test func aRefusedMutatingCallIsAuditedWithItsReason() async throws {
        let server = try await TestServer.start()
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "r-1", "kind": "CLIENT"])
        let weak = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": "r-1", "pin": "7654321"])
        #expect(weak.details?["reason"] as? String == "SEQUENCE")
        let admin = try await server.connect(as: "admin")
        let events = try #require(try await admin.call("verity.v1.Admin/ListAudit", ["subjectId": "r-1"]).body?["events"] as? [[String: Any]])
        let refused = try #require(events.last)
        #expect(refused["action"] as? String == "REFUSED")
        #expect(refused["outcome"] as? String == "INVALID_ARGUMENT")
        #expect(refused["facts"] as? [String] == ["reason: SEQUENCE"])
        #expect(!"\(events)".contains("7654321"))
        try await server.stop()
    }

    @Test(arguments: ["verity.v1.Credentials/SetSecurityDetails", "verity.v1.Credentials/ApplyDefaults", "verity.v1.Ivr/GeneratePin", "verity.v1.Admin/Unblock"])
    func actsOnSecretsAndLocksNameTheCaseworker(_ method: String) async throws {
        let server = try await TestServer.start()
        let role = method.hasPrefix("verity.v1.Admin") ? "admin" : "agent"
        let connection = try await server.connect(as: role)
        for metadata in [[:], ["actor": "  "]] as [[String: String]] {
            let answer = try await connection.call(method, ["subjectId": "a-1", "pin": "4829157", "reason": "r"], extra: ["metadata": metadata])
            #expect(answer.code == 3)
            #expect(answer.details?["field"] as? String == "metadata.actor")
            #expect(answer.details?["reason"] as? String == "REQUIRED")
        }
        try await server.stop()
    }

    @Test func storeFailuresTravelAsUnavailableOrInternal() {
        let busy = StoreFailure(kind: .busy, code: 5, message: "database is locked").rpcError
        #expect(busy.code == .unavailable && busy.details["reason"]?.stringValue == "STORE_BUSY")
        let failed = StoreFailure(kind: .failed, code: 10, message: "disk I/O error").rpcError
        #expect(failed.code == .internalError && failed.details["reason"]?.stringValue == "STORE_ERROR")
        #expect(!(failed.message ?? "").contains("disk I/O"))
    }
}

@Suite("The role table, method by method")
struct RoleMatrixTests {
    /// The table of `proto-spec/auth.md`, written out again here so that the code's table is
    /// checked against the specification rather than against itself.
    static let allowed: [String: Set<String>] = [
        "verity.v1.Subjects/Enroll": ["agent"],
        "verity.v1.Subjects/UpdateContacts": ["agent"],
        "verity.v1.Subjects/GetStatus": ["verifier", "ivr", "agent"],
        "verity.v1.Credentials/SetSecurityDetails": ["agent"],
        "verity.v1.Credentials/ApplyDefaults": ["agent"],
        "verity.v1.Credentials/Verify": ["verifier", "agent"],
        "verity.v1.Credentials/Change": ["verifier", "agent"],
        "verity.v1.Ivr/GeneratePin": ["agent"],
        "verity.v1.Ivr/VerifyPin": ["ivr", "agent"],
        "verity.v1.Mfa/IssueCode": ["verifier", "agent"],
        "verity.v1.Mfa/VerifyCode": ["verifier", "agent"],
        "verity.v1.Notifications/Lease": ["notifier"],
        "verity.v1.Notifications/Ack": ["notifier"],
        "verity.v1.Admin/Unblock": [],
        "verity.v1.Admin/ListAudit": [],
        "verity.v1.Admin/VerifyAuditChain": [],
        "verity.v1.Health/Check": ["verifier", "ivr", "agent", "notifier"],
        "verity.v1.Recovery/SetFacts": ["agent"],
        "verity.v1.Recovery/RemoveFacts": ["agent"],
        "verity.v1.Recovery/CheckFacts": ["agent"],
        "verity.v1.Recovery/RemovePassword": ["agent"],
        "verity.v1.Recovery/OpenRequest": ["agent"],
        "verity.v1.Recovery/ConfirmDocument": ["agent"],
        "verity.v1.Recovery/GetRequest": ["agent"],
        "verity.v1.ChangeRequests/Raise": ["agent"],
        "verity.v1.ChangeRequests/Get": ["agent"],
        "verity.v1.ChangeRequests/List": ["agent"],
        "verity.v1.ChangeRequests/ReceiveForm": ["agent"],
        "verity.v1.ChangeRequests/Accept": ["agent"],
        "verity.v1.ChangeRequests/Decline": ["agent"],
        "verity.v1.ChangeRequests/Close": ["agent"],
        "verity.v1.Development/AdvanceClock": [],
        "verity.v1.Portal/StartRegistration": ["agent"],
        "verity.v1.Portal/CompleteRegistration": ["verifier"],
        "verity.v1.Portal/ResetPassword": ["verifier"],
        "verity.v1.Links/SetFacts": ["agent"],
        "verity.v1.Links/Submit": ["verifier"],
        "verity.v1.Links/Search": ["agent"],
        "verity.v1.Links/Show": ["agent"],
        "verity.v1.Links/Link": ["agent"],
        "verity.v1.Links/Reject": ["agent"],
        "verity.v1.Links/Unlink": [],
    ]

    @Test func theTableCoversEveryMethod() {
        #expect(Set(Self.allowed.keys) == Set(Method.allCases.map(\.path)))
    }

    @Test(arguments: ["verifier", "ivr", "agent", "notifier", "admin"])
    func eachRoleGetsExactlyItsMethods(role: String) async throws {
        // With the development clock, so that Development/AdvanceClock exists to be refused.
        let server = try await TestServer.start { $0.developmentClock = true }
        let connection = try await server.connect(as: role)
        for (method, roles) in Self.allowed.sorted(by: { $0.key < $1.key }) {
            let response = try await connection.call(method, ["subjectId": "matrix-subject"])
            let mayCall = role == "admin" || roles.contains(role)
            if mayCall {
                #expect(response.code != 7, "\(role) should be allowed \(method)")
            } else {
                #expect(response.code == 7, "\(role) should be denied \(method)")
                #expect((response["status"] as? [String: Any])?["message"] as? String == "role \(role) may not call \(method)")
            }
        }
        try await server.stop()
    }

    @Test func deniedCallsAreAudited() async throws {
        let server = try await TestServer.start()
        let ivr = try await server.connect(as: "ivr")
        #expect(try await ivr.call("verity.v1.Admin/Unblock", ["subjectId": "someone", "reason": "x"]).code == 7)
        let admin = try await server.connect(as: "admin")
        let events = try await admin.call("verity.v1.Admin/ListAudit").body?["events"] as? [[String: Any]] ?? []
        let denial = try #require(events.last)
        #expect(denial["action"] as? String == "PERMISSION_DENIED")
        #expect(denial["role"] as? String == "ivr")
        #expect(denial["method"] as? String == "verity.v1.Admin/Unblock")
        #expect(denial["subjectId"] as? String == "someone")
        try await server.stop()
    }

    @Test func anUnknownRoleIsUnauthenticatedForEveryRequest() async throws {
        let server = try await TestServer.start()
        // The test PKI issues certificates for the five roles; we add one for an unknown OU.
        let auditor = try await server.connectWithExtraRole("auditor")
        for method in ["verity.v1.Health/Check", "verity.v1.Subjects/GetStatus", "verity.v1.Nope/Nothing"] {
            #expect(try await auditor.call(method, ["subjectId": "x"]).code == 16)
        }
        try await server.stop()
    }
}
