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
@testable import VerityServer
import VerityTestSupport

/// Change requests over the wire: the letters reach a notifier, the development clock moves
/// the waits, and a server that was down takes what fell due when it starts.
@Suite("Change requests over the wire")
struct ChangeRequestServerTests {
    static let day = 24 * 3600
    static let address = PostalAddressMessage(lines: ["Ms A. Person", "1 High Street", "Leeds"], postalCode: "LS1 4AB", country: "GB")

    /// A blocked client with a postal address on file.
    func blockedClient(_ id: String, _ agent: VerityClient) async throws {
        _ = try await agent.enroll(subjectId: id, contacts: ContactsMessage(postalAddresses: [Self.address]))
        _ = try await agent.setSecurityDetails(subjectId: id, pin: "4829157")
        for _ in 0..<3 { _ = try await agent.verify(subjectId: id, pin: "1111112") }
    }

    @Test func theDevelopmentClockRunsTheWaitsAndTheLettersReachTheNotifier() async throws {
        let server = try await TestServer.start { $0.developmentClock = true }
        let (agent, admin, mailer) = (server.client(role: "agent"), server.client(role: "admin"), server.client(role: "notifier"))
        try await blockedClient("cr-wire-1", agent)
        let raised = try await agent.raiseChangeRequest(subjectId: "cr-wire-1", source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "A. Person (PWC)")
        #expect(raised.status == .waiting && raised.overdue == false && raised.formSentAt != nil)
        let leased = try await mailer.lease(max: 10, leaseSeconds: 30, channels: [.letter])
        #expect(leased.count == 1)
        let form = try #require(leased.first)
        #expect(form.channel == .letter && form.template == "CMSL9800" && form.destination == "Ms A. Person\n1 High Street\nLeeds\nLS1 4AB\nGB")
        try await mailer.ack(deliveryId: form.deliveryId, leaseToken: form.leaseToken)

        #expect(try await admin.advanceClock(seconds: 7 * Self.day).stepsTaken == 1)
        #expect(try await mailer.lease(max: 10, leaseSeconds: 30, channels: [.letter]).map(\.template) == ["CMSL9801"])
        #expect(try await agent.changeRequest(changeRequestId: raised.changeRequestId).reminderSentAt != nil)
        let overdue = try await agent.listChangeRequests(ListChangeRequestsRequest(overdue: true))
        #expect(overdue.changeRequests.isEmpty, "a request waiting for the person is due, not overdue, until its wait ends")
        #expect(try await admin.advanceClock(seconds: 7 * Self.day).stepsTaken == 1)
        let declined = try await agent.changeRequest(changeRequestId: raised.changeRequestId)
        #expect(declined.status == .declined && declined.resolutionReason != nil)

        let again = try await agent.raiseChangeRequest(subjectId: "cr-wire-1", source: .letter, reason: .blockedAfterFailedChecks, reportedBy: "A. Person (PWC)")
        let notYetSent = await rpcFailure { _ = try await agent.receiveForm(changeRequestId: again.changeRequestId, subjectId: "cr-wire-1") }
        #expect(notYetSent?.code == .failedPrecondition && notYetSent?.details["reason"] == "FORM_NOT_SENT", "no form can come back before one went out")
        for letter in try await mailer.lease(max: 10, leaseSeconds: 30, channels: [.letter]) {
            try await mailer.ack(deliveryId: letter.deliveryId, leaseToken: letter.leaseToken)
        }
        let early = await rpcFailure {
            _ = try await agent.acceptChangeRequest(changeRequestId: again.changeRequestId, subjectId: "cr-wire-1", newPin: "5930271")
        }
        #expect(early?.code == .failedPrecondition && early?.details["reason"] == "FORM_NOT_RECEIVED")
        _ = try await agent.receiveForm(changeRequestId: again.changeRequestId, subjectId: "cr-wire-1")
        let accepted = try await agent.acceptChangeRequest(changeRequestId: again.changeRequestId, subjectId: "cr-wire-1", newPin: "5930271")
        #expect(accepted.state == .active && accepted.changeRequest.status == .accepted && accepted.changeRequest.confirmation == .letter)
        #expect(try await agent.verify(subjectId: "cr-wire-1", pin: "5930271").result == .verified)
        for client in [agent, admin, mailer] { await client.close() }
        try await server.stop()
    }

    @Test func withoutTheDevelopmentClockAdvanceClockIsUnimplemented() async throws {
        let server = try await TestServer.start()
        let admin = server.client(role: "admin")
        #expect(await rpcFailure { _ = try await admin.advanceClock(seconds: 60) }?.code == .unimplemented)
        await admin.close()
        try await server.stop()
    }

    @Test func aServerThatWasDownTakesTheStepsThatFellDueWhenItStarts() async throws {
        let server = try await TestServer.start(clock: ServiceClock(), hasher: { $0 }) { $0.timedStepInterval = .seconds(3600) }
        let agent = server.client(role: "agent")
        try await blockedClient("cr-wire-2", agent)
        let raised = try await agent.raiseChangeRequest(subjectId: "cr-wire-2", source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "A. Person")
        await agent.close()
        try await server.stop()

        // Fifteen days of downtime: both waits ended; the reminder goes at start-up and starts a
        // wait of its own, so the request is not declined yet.
        let restarted = try await server.restart(clock: ServiceClock(offset: Double(15 * Self.day)))
        let again = restarted.client(role: "agent")
        try await waitUntil(timeout: .seconds(30)) {
            try await again.changeRequest(changeRequestId: raised.changeRequestId).reminderSentAt != nil
        }
        let reminded = try await again.changeRequest(changeRequestId: raised.changeRequestId)
        #expect(reminded.status == .waiting)
        let trail = try await again.listChangeRequests(ListChangeRequestsRequest(subjectId: "cr-wire-2"))
        #expect(trail.changeRequests.map(\.changeRequestId) == [raised.changeRequestId])
        await again.close()
        try await restarted.stop()
    }

    /// A lease counts 1 KiB for each delivery it hands out: the largest letter an address on file
    /// allows must fit, or a full lease would be refused after its deliveries were leased.
    @Test func theLargestLetterFitsTheShareALeaseCountsForIt() async throws {
        let server = try await TestServer.start()
        let (agent, mailer) = (server.client(role: "agent"), server.client(role: "notifier"))
        let subject = String(repeating: "s", count: 128)
        // Quotes and backslashes take two bytes each in JSON; this is the most an address may take.
        let line = String(repeating: "\"\\", count: 20)
        let largest = PostalAddressMessage(lines: Array(repeating: line, count: 6), postalCode: "AB12-34CD 56", country: "GB")
        let tooLarge = PostalAddressMessage(lines: Array(repeating: line + "\"", count: 6), postalCode: "AB12-34CD 56", country: "GB")
        let refused = await rpcFailure { _ = try await agent.enroll(subjectId: subject, contacts: ContactsMessage(postalAddresses: [tooLarge])) }
        #expect(refused?.details["reason"] == "TOO_LONG" && refused?.details["field"] == "contacts.postalAddresses[0]")
        _ = try await agent.enroll(subjectId: subject, contacts: ContactsMessage(postalAddresses: [largest]))
        _ = try await agent.setSecurityDetails(subjectId: subject, pin: "4829157")
        _ = try await agent.raiseChangeRequest(subjectId: subject, source: .letter, reason: .clientRequest, reportedBy: "A. Person")
        let letter = try #require(try await mailer.lease(max: 1, leaseSeconds: 30, channels: [.letter]).first)
        let encoded = try JSONEncoder().encode(letter)
        #expect(encoded.count + 1 <= 1024, "a letter's delivery takes \(encoded.count) bytes")
        for client in [agent, mailer] { await client.close() }
        try await server.stop()
    }

    /// A page never outgrows a frame: fewer requests than asked for, and a token to go on.
    @Test func aPageThatWouldNotFitAFrameIsCutAndGoesOn() async throws {
        let server = try await TestServer.start { $0.maximumFrameBytes = 4096 }
        let agent = server.client(role: "agent")
        var raised: [String] = []
        for index in 0..<8 {
            let subject = "cr-page-\(index)"
            _ = try await agent.enroll(subjectId: subject, contacts: ContactsMessage(postalAddresses: [Self.address]))
            _ = try await agent.setSecurityDetails(subjectId: subject, pin: "4829157")
            let reporter = String(repeating: "A. Person of a long name ", count: 8)
            raised.append(try await agent.raiseChangeRequest(subjectId: subject, source: .letter, reason: .clientRequest, reportedBy: reporter).changeRequestId)
        }
        var (seen, pages): ([String], [Int]) = ([], [])
        var token: String?
        repeat {
            let page = try await agent.listChangeRequests(ListChangeRequestsRequest(pageSize: 100, pageToken: token))
            (seen, pages) = (seen + page.changeRequests.map(\.changeRequestId), pages + [page.changeRequests.count])
            token = page.nextPageToken
        } while token != nil
        #expect(pages.count > 1, "a 4 KiB frame does not hold eight: \(pages)")
        #expect(seen == raised, "every request once, in order")
        await agent.close()
        try await server.stop()
    }

    @Test func badInputIsRefusedWithTheFieldItConcerns() async throws {
        let server = try await TestServer.start()
        let agent = server.client(role: "agent")
        try await blockedClient("cr-wire-3", agent)
        let cases: [(String, () async throws -> Void, String, String)] = [
            ("source", { _ = try await agent.raiseChangeRequest(subjectId: "cr-wire-3", source: "FAX", reason: .clientRequest, reportedBy: "p") }, "source", "INVALID_VALUE"),
            ("id", { _ = try await agent.changeRequest(changeRequestId: "not-an-id") }, "changeRequestId", "INVALID_VALUE"),
            ("page size", { _ = try await agent.listChangeRequests(ListChangeRequestsRequest(pageSize: 0)) }, "pageSize", "OUT_OF_RANGE"),
            ("page token", { _ = try await agent.listChangeRequests(ListChangeRequestsRequest(pageToken: "x")) }, "pageToken", "INVALID_VALUE"),
            ("due before", { _ = try await agent.listChangeRequests(ListChangeRequestsRequest(dueBefore: "tomorrow")) }, "dueBefore", "INVALID_VALUE"),
            ("status", { _ = try await agent.listChangeRequests(ListChangeRequestsRequest(statuses: ["LOST"])) }, "statuses[0]", "INVALID_VALUE"),
            ("address", {
                try await agent.updateContacts(subjectId: "cr-wire-3", contacts: ContactsMessage(postalAddresses: [PostalAddressMessage(lines: [], postalCode: "LS1 4AB")]))
            }, "contacts.postalAddresses[0].lines", "INVALID_VALUE"),
        ]
        for (name, work, field, reason) in cases {
            let error = await rpcFailure(work)
            #expect(error?.code == .invalidArgument, "\(name)")
            #expect(error?.details["field"] == .string(field), "\(name)")
            #expect(error?.details["reason"] == .string(reason), "\(name)")
        }
        let unknown = await rpcFailure { _ = try await agent.changeRequest(changeRequestId: String(repeating: "a", count: 32)) }
        #expect(unknown?.code == .notFound && unknown?.details["field"] == "changeRequestId")
        #expect(try await agent.listChangeRequests().changeRequests.isEmpty, "nothing was raised")
        await agent.close()
        try await server.stop()
    }
}
