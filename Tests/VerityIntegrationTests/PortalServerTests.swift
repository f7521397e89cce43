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

/// The portal's side over the wire: a registration token from the outbox, a reset on a verified
/// code, a link on a full match; the caseworker's side: the queue.
@Suite("The portal and account links over the wire")
struct PortalServerTests {
    /// The value of `variable` in the one message waiting in the outbox.
    func fromOutbox(_ variable: String, _ mailer: VerityClient) async throws -> String {
        let delivery = try #require(try await mailer.lease(max: 10, leaseSeconds: 30).first)
        try await mailer.ack(deliveryId: delivery.deliveryId, leaseToken: delivery.leaseToken)
        return try #require(delivery.variables[variable])
    }

    @Test func aPortalRegistersResetsAndLinks() async throws {
        let server = try await TestServer.start()
        let (agent, portal, mailer, admin) = (server.client(role: "agent"), server.client(role: "verifier"), server.client(role: "notifier"), server.client(role: "admin"))
        _ = try await agent.enroll(subjectId: "portal-w1", contacts: ContactsMessage(emails: ["pat@example.org"]))
        #expect(try await agent.startRegistration(subjectId: "portal-w1").maskedDestination == "p***@example.org")
        let token = try await fromOutbox("token", mailer)
        let denied = await rpcFailure { _ = try await agent.completeRegistration(token: token, password: "Copper Meadow 5521") }
        #expect(denied?.code == .permissionDenied, "the portal redeems, not a caseworker system")
        let registered = try await portal.completeRegistration(token: token, password: "Copper Meadow 5521")
        #expect(registered.subjectId == "portal-w1" && registered.state == .active)

        let reset = try await portal.issueCode(subjectId: "portal-w1", channel: .email, purpose: .passwordReset)
        let code = try await fromOutbox("code", mailer)
        _ = try await portal.verifyCode(challengeId: reset.challengeId, code: code, subjectId: "portal-w1", purpose: .passwordReset)
        #expect(try await portal.resetPassword(subjectId: "portal-w1", challengeId: reset.challengeId, newPassword: "Velvet Harbour 9023").state == .active)
        let twice = await rpcFailure { _ = try await portal.resetPassword(subjectId: "portal-w1", challengeId: reset.challengeId, newPassword: "Velvet Harbour 9024") }
        #expect(twice?.code == .failedPrecondition && twice?.details["reason"] == "GRANT_USED")
        #expect(try await portal.verify(subjectId: "portal-w1", password: "Velvet Harbour 9023", channel: .portal).result == .verified)

        _ = try await agent.setLinkFacts(SetLinkFactsRequest(
            subjectId: "portal-w1", registrantName: "Pat Wire", dateOfBirth: "1985-04-12", zipCode: "90210",
            cases: [LinkCaseMessage(county: "Orange", caseNumber: "OC-300400", primaryApplicant: true), LinkCaseMessage(county: "Kern", caseNumber: "KE-1234", primaryApplicant: true)]
        ))
        let account = "0f8fad5b-d9cb-469f-a165-70867728950e"
        let linkCode = try await portal.issueCode(subjectId: "portal-w1", channel: .email, purpose: .accountLink)
        _ = try await portal.verifyCode(challengeId: linkCode.challengeId, code: try await fromOutbox("code", mailer), subjectId: "portal-w1", purpose: .accountLink)
        let queued = try await portal.submitLink(SubmitLinkRequest(
            subjectId: "portal-w1", portalAccountId: account, dateOfBirth: "1985-04-12", zipCode: "90211", county: "Orange", caseNumber: "OC300400",
            challengeId: linkCode.challengeId
        ))
        #expect(queued.outcome == .queued && queued.link == nil && queued.submissionId != nil)
        let answer = String(decoding: try JSONEncoder().encode(queued), as: UTF8.self)
        for leak in ["ZIP", "MISMATCH", "ORANGE", "KERN", "Pat Wire"] {
            #expect(!answer.contains(leak), "the portal is told nothing of \(leak)")
        }
        let page = try await agent.searchLinkRequests(SearchLinkRequestsRequest(county: "kern", pageSize: 1))
        #expect(page.linkRequests.first?.holds == [.zipCodeMismatch], "the caseworker sees which fact was wrong")
        let kern = try #require(page.linkRequests.first)
        let shown = try await agent.showLinkRequest(linkRequestId: kern.linkRequestId)
        #expect(shown.cases.map(\.caseNumberEnding) == ["400", "234"] && shown.link == nil)
        let processed = try await agent.linkAccount(linkRequestId: kern.linkRequestId)
        #expect(processed.linkRequests.count == 2 && processed.linkRequests.allSatisfy { $0.status == .processed })
        let unlinkDenied = await rpcFailure { _ = try await agent.unlinkAccount(subjectId: "portal-w1", reason: "not mine to do") }
        #expect(unlinkDenied?.code == .permissionDenied, "only the roles allowed to may unlink")
        #expect(try await admin.unlinkAccount(subjectId: "portal-w1", reason: "linked in error").linkRequests.map(\.origin) == [.unlink, .unlink])
        for client in [agent, portal, mailer, admin] { await client.close() }
        try await server.stop()
    }

    @Test func badInputIsRefusedWithTheFieldItConcerns() async throws {
        let server = try await TestServer.start()
        let (agent, portal) = (server.client(role: "agent"), server.client(role: "verifier"))
        let claim = SubmitLinkRequest(
            subjectId: "portal-w2", portalAccountId: "nope", dateOfBirth: "1985-04-12", zipCode: "90210", county: "Orange", caseNumber: "OC1",
            challengeId: String(repeating: "a", count: 32)
        )
        let cases: [(String, () async throws -> Void, String, String)] = [
            ("token", { _ = try await portal.completeRegistration(token: "abc", password: "Copper Meadow 5521") }, "token", "INVALID_VALUE"),
            ("account", { _ = try await portal.submitLink(claim) }, "portalAccountId", "INVALID_VALUE"),
            ("challenge", { _ = try await portal.resetPassword(subjectId: "portal-w2", challengeId: "x", newPassword: "Copper Meadow 5521") }, "challengeId", "INVALID_VALUE"),
            ("weak password", { _ = try await portal.resetPassword(subjectId: "portal-w2", challengeId: String(repeating: "a", count: 32), newPassword: "password") }, "newPassword", "TOO_COMMON"),
            ("page size", { _ = try await agent.searchLinkRequests(SearchLinkRequestsRequest(pageSize: 101)) }, "pageSize", "OUT_OF_RANGE"),
            ("from", { _ = try await agent.searchLinkRequests(SearchLinkRequestsRequest(requestedFrom: "yesterday")) }, "requestedFrom", "INVALID_VALUE"),
            ("cases", {
                _ = try await agent.setLinkFacts(SetLinkFactsRequest(subjectId: "portal-w2", registrantName: "P", dateOfBirth: "1985-04-12", zipCode: "90210", cases: []))
            }, "cases", "INVALID_VALUE"),
        ]
        for (name, work, field, reason) in cases {
            let error = await rpcFailure(work)
            #expect(error?.code == .invalidArgument, "\(name): \(String(describing: error))")
            #expect(error?.details["field"] == .string(field), "\(name)")
            #expect(error?.details["reason"] == .string(reason), "\(name): \(String(describing: error))")
        }
        for client in [agent, portal] { await client.close() }
        try await server.stop()
    }
}
