//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import Testing
import VerityCore
import VerityStore
import VerityTestSupport

/// Procedure 002: a change of security details by request, with the form by letter, two
/// seven-day waits, the reminder and the automatic decline, all on an injected clock.
@Suite("Change requests")
struct ChangeRequestTests {
    static let day: TimeInterval = 24 * 3600
    static let address = PostalAddress(lines: ["Ms A. Person", "1 High Street", "Leeds"], postalCode: "LS1 4AB", country: "GB")
    static let context = CallContext.agent

    struct Setup {
        let fixture: ServiceFixture
        let clock: TestClock
        var service: CredentialService { fixture.service }
    }

    static func setUp() throws -> Setup {
        let clock = TestClock()
        return Setup(fixture: try ServiceFixture(now: clock.closure), clock: clock)
    }

    /// A client with a PIN, the address on file, and locked by three wrong PINs when `blocked`.
    static func client(_ id: String, in setup: Setup, blocked: Bool, contacts: Contacts = Contacts(postalAddresses: [address])) async throws -> SubjectID {
        let subject = try await setup.fixture.activeClient(id)
        try await setup.service.updateContacts(subject, to: contacts, context: context)
        if blocked {
            for _ in 0..<3 { _ = try await setup.service.verify(subject, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
            #expect(try await setup.service.status(of: subject).state == .blocked)
        }
        return subject
    }

    /// Every delivery the outbox hands out now, settled as sent.
    static func deliveries(_ setup: Setup) async throws -> [LeasedDelivery] {
        let leased = try await setup.service.leaseDeliveries(
            max: 100, leaseSeconds: 60, channels: Set(DeliveryChannel.allCases), context: .init(caller: "mailroom", role: "notifier")
        )
        for delivery in leased {
            try await setup.service.acknowledgeDelivery(delivery.id, leaseToken: delivery.leaseToken, outcome: .sent, context: .init(caller: "mailroom", role: "notifier"))
        }
        return leased
    }

    @Test func aBlockedPersonIsSentTheFormThenTheReminderAndIsDeclinedWithoutAnAnswer() async throws {
        let setup = try Self.setUp()
        let (service, clock) = (setup.service, setup.clock)
        let subject = try await Self.client("cr-letters", in: setup, blocked: true)
        let raisedAt = clock.now
        let raised = try await service.raiseChangeRequest(for: subject, source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "A. Person (PWC)", context: Self.context)
        #expect(raised.status == .waiting)
        #expect(raised.dueAt == raisedAt.addingTimeInterval(7 * Self.day))
        let form = try #require(try await Self.deliveries(setup).only)
        #expect(form.channel == .letter)
        #expect(form.content.template == "CMSL9800")
        #expect(form.content.destination == "Ms A. Person\n1 High Street\nLeeds\nLS1 4AB\nGB")
        #expect(form.content.variables == ["changeRequestId": raised.id, "subjectId": subject.rawValue, "respondBy": Timestamp.string(from: raisedAt.addingTimeInterval(7 * Self.day))])

        clock.advance(by: 7 * Self.day - 1)
        #expect(try await service.takeDueSteps() == 0, "nothing is due a second before the end of the wait")
        clock.advance(by: 1)
        #expect(try await service.takeDueSteps() == 1)
        #expect(try await service.takeDueSteps() == 0, "the reminder goes once")
        let reminded = try await service.changeRequest(raised.id)
        #expect(reminded.status == .waiting)
        #expect(reminded.reminderSentAt == clock.now)
        #expect(reminded.dueAt == clock.now.addingTimeInterval(7 * Self.day))
        #expect(try await Self.deliveries(setup).map(\.content.template) == ["CMSL9801"])

        clock.advance(by: 7 * Self.day)
        #expect(try await service.takeDueSteps() == 1)
        let declined = try await service.changeRequest(raised.id)
        #expect(declined.status == .declined)
        #expect(declined.resolutionReason == DetailsChangeRequest.noResponseReason)
        #expect(declined.dueAt == nil)
        #expect(try await service.takeDueSteps() == 0)
        #expect(try await Self.deliveries(setup).isEmpty, "no letter goes with the decline")
        #expect(try await service.status(of: subject).state == .blocked, "without new details the person stays blocked")

        let trail = try await service.auditEvents(for: subject).filter { $0.action.rawValue.hasSuffix("CHANGE_REQUEST") }
        #expect(trail.map(\.action) == [.raiseChangeRequest, .remindChangeRequest, .declineChangeRequest])
        #expect(trail.dropFirst().allSatisfy { $0.caller == "verityd scheduler" && $0.role == "system" })
    }

    @Test func aStepThatFellDueWhileNoServerRanIsTakenOnceAtStartUpAndAcrossSchedulers() async throws {
        let setup = try Self.setUp()
        let subject = try await Self.client("cr-restart", in: setup, blocked: false)
        let raised = try await setup.service.raiseChangeRequest(for: subject, source: .letter, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        try setup.fixture.store.close()

        // Ten days later, two servers open the same database and catch up at once.
        setup.clock.advance(by: 10 * Self.day)
        let restarted = try (0..<2).map { _ in
            let store = try SQLiteCredentialStore(path: setup.fixture.databasePath, keyring: setup.fixture.hasher.keyring)
            return try CredentialService(store: store, hasher: setup.fixture.hasher, keyring: setup.fixture.hasher.keyring, now: setup.clock.closure)
        }
        async let first = restarted[0].takeDueSteps()
        async let second = restarted[1].takeDueSteps()
        #expect(try await first + second == 1, "one reminder, whichever server took it")
        let reminded = try #require(try await restarted[0].changeRequest(raised.id))
        #expect(reminded.reminderSentAt == setup.clock.now)
        #expect(reminded.dueAt == setup.clock.now.addingTimeInterval(7 * Self.day), "a late reminder still gives the whole wait")
        let letters = try await restarted[1].leaseDeliveries(max: 10, leaseSeconds: 60, channels: [.letter], context: .init(caller: "mailroom", role: "notifier"))
        // The form was never leased, and expired with the wait it asked an answer within.
        #expect(letters.map(\.content.template) == ["CMSL9801"])
    }

    @Test func acceptingUnblocksAndSetsTheNewDetailsOnlyOnceTheFormCameBack() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.client("cr-accept", in: setup, blocked: true)
        let raised = try await service.raiseChangeRequest(for: subject, source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "A. Person", context: Self.context)
        _ = try await Self.deliveries(setup)
        let newDetails = SecurityFactors(pin: "5930271")
        await #expect(throws: CredentialError.failedPrecondition(reason: "FORM_NOT_RECEIVED", message: "the form has not come back: record it first (ReceiveForm)")) {
            try await service.acceptChangeRequest(raised.id, of: subject, newDetails: newDetails, confirmBySMS: false, context: Self.context)
        }
        #expect(setup.fixture.hasher.hashes == 1, "a refused accept hashes nothing")
        #expect(try await service.status(of: subject).state == .blocked)

        setup.clock.advance(by: 3 * Self.day)
        let received = try await service.receiveChangeRequestForm(raised.id, of: subject, context: Self.context)
        #expect(received.status == .inProgress)
        #expect(received.dueAt == setup.clock.now.addingTimeInterval(Self.day))
        setup.clock.advance(by: 5 * Self.day)
        #expect(try await service.takeDueSteps() == 0, "a returned form stops the waits")

        let accepted = try await service.acceptChangeRequest(raised.id, of: subject, newDetails: newDetails, confirmBySMS: false, context: Self.context)
        #expect(accepted.request.status == .accepted)
        #expect(accepted.request.confirmation == .letter)
        #expect(accepted.state == .active)
        #expect(try await service.verify(subject, newDetails, channel: .phone, context: .verifier).outcome == .verified)
        #expect(try await service.verify(subject, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .mismatch)
        #expect(try await Self.deliveries(setup).map(\.content.template) == ["CMSL9802"])
        let acts = try await service.auditEvents(for: subject).map(\.action).drop { $0 != .receiveChangeRequestForm }
        #expect(Array(acts.prefix(4)) == [.receiveChangeRequestForm, .unblock, .setSecurityDetails, .acceptChangeRequest])
        await #expect(throws: CredentialError.failedPrecondition(reason: "REQUEST_CLOSED", message: "accepting needs a request that is OPEN or IN_PROGRESS; this one is ACCEPTED")) {
            try await service.acceptChangeRequest(raised.id, of: subject, newDetails: newDetails, confirmBySMS: false, context: Self.context)
        }
    }

    @Test func ofActsRacingOnOneRequestExactlyOneDecides() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.client("cr-race", in: setup, blocked: true)
        let raised = try await service.raiseChangeRequest(for: subject, source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "A. Person", context: Self.context)
        _ = try await Self.deliveries(setup)
        _ = try await service.receiveChangeRequestForm(raised.id, of: subject, context: Self.context)
        let pins = ["5930271", "6041382", "7152493", "8263504"]
        let outcomes = await withTaskGroup(of: String.self) { group in
            for pin in pins {
                group.addTask {
                    do {
                        _ = try await service.acceptChangeRequest(raised.id, of: subject, newDetails: SecurityFactors(pin: pin), confirmBySMS: false, context: Self.context)
                        return pin
                    } catch { return "refused" }
                }
            }
            group.addTask {
                do {
                    _ = try await service.declineChangeRequest(raised.id, of: subject, reason: "racing", context: Self.context)
                    return "declined"
                } catch { return "refused" }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.filter { $0 != "refused" }
        #expect(winners.count == 1, "\(outcomes)")
        let request = try await service.changeRequest(raised.id)
        if let pin = winners.first, pins.contains(pin) {
            #expect(request.status == .accepted)
            #expect(try await service.verify(subject, SecurityFactors(pin: pin), channel: .phone, context: .verifier).outcome == .verified, "the winner's PIN is the one set")
        } else {
            #expect(request.status == .declined)
            #expect(try await service.status(of: subject).state == .blocked, "a declined request lifts no block")
        }
    }

    @Test func anAcceptThatFailsAtItsLastWriteLeavesEverythingAsItWas() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.client("cr-atomic", in: setup, blocked: true)
        let raised = try await service.raiseChangeRequest(for: subject, source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "A. Person", context: Self.context)
        _ = try await Self.deliveries(setup)
        _ = try await service.receiveChangeRequestForm(raised.id, of: subject, context: Self.context)
        let before = try await setup.fixture.store.subject(subject)
        let auditBefore = try await service.auditEvents(limit: 1000).count
        // The accept's own audit event is its last write: after the unblock, the new details, the
        // request's status and the confirmation letter.
        let database = try DatabaseQueue(path: setup.fixture.databasePath)
        try await database.write { db in
            try db.execute(sql: """
                CREATE TRIGGER fail_the_accept BEFORE INSERT ON audit_event WHEN NEW.action = 'ACCEPT_CHANGE_REQUEST'
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
        }
        await #expect(throws: (any Error).self) {
            try await service.acceptChangeRequest(raised.id, of: subject, newDetails: SecurityFactors(pin: "5930271"), confirmBySMS: false, context: Self.context)
        }
        #expect(try await setup.fixture.store.subject(subject) == before, "still blocked, with the old PIN")
        #expect(try await service.changeRequest(raised.id).status == .inProgress)
        #expect(try await service.auditEvents(limit: 1000).count == auditBefore, "no UNBLOCK or SET_SECURITY_DETAILS event either")
        #expect(try await Self.deliveries(setup).isEmpty, "no confirmation went out")
        try await database.write { db in try db.execute(sql: "DROP TRIGGER fail_the_accept") }
        let accepted = try await service.acceptChangeRequest(raised.id, of: subject, newDetails: SecurityFactors(pin: "5930271"), confirmBySMS: false, context: Self.context)
        #expect(accepted.state == .active)
    }

    @Test(arguments: [
        (Contacts(phones: [Phone(number: "07700 900123", type: .cell)], postalAddresses: [address]), true, DetailsChangeRequest.Confirmation.sms, Optional("SECURITY_DETAILS_UPDATED")),
        (Contacts(phones: [Phone(number: "07700 900123", type: .cell)], postalAddresses: [address]), false, .letter, "CMSL9802"),
        (Contacts(phones: [Phone(number: "0113 496 0000", type: .fax)], postalAddresses: [address]), true, .letter, "CMSL9802"),
        (Contacts(phones: [Phone(number: "07700 900123", type: .cell)]), false, .sms, "SECURITY_DETAILS_UPDATED"),
        (Contacts(emails: ["a@example.org"]), false, .email, "SECURITY_DETAILS_UPDATED"),
        (Contacts(), false, .notSent, nil),
    ])
    func aChangeIsConfirmedByTextWhenAgreedElseByLetterElseByAnyContact(
        contacts: Contacts, agreed: Bool, confirmation: DetailsChangeRequest.Confirmation, template: String?
    ) async throws {
        let setup = try Self.setUp()
        let subject = try await Self.client("cr-confirm", in: setup, blocked: false, contacts: contacts)
        let raised = try await setup.service.raiseChangeRequest(for: subject, source: .selfService, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        let accepted = try await setup.service.acceptChangeRequest(
            raised.id, of: subject, newDetails: SecurityFactors(password: "Velvet Harbour 9023"), confirmBySMS: agreed, context: Self.context
        )
        #expect(accepted.request.confirmation == confirmation)
        #expect(try await Self.deliveries(setup).map(\.content.template) == (template.map { [$0] } ?? []))
    }

    /// The reminder must go out before the second wait starts; a request that cannot be reminded
    /// (its address was removed) stays due without holding up the requests after it.
    @Test func aReminderWithoutAnAddressWaitsAndHoldsUpNoOtherRequest() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let moved = try await Self.client("cr-moved", in: setup, blocked: false)
        let first = try await service.raiseChangeRequest(for: moved, source: .letter, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        setup.clock.advance(by: 1)
        let other = try await Self.client("cr-staying", in: setup, blocked: false)
        let second = try await service.raiseChangeRequest(for: other, source: .letter, reason: .clientRequest, reportedBy: "B. Person", context: Self.context)
        _ = try await Self.deliveries(setup)
        try await service.updateContacts(moved, to: Contacts(), context: Self.context)
        setup.clock.advance(by: 7 * Self.day)
        #expect(try await service.takeDueSteps(batch: 1) == 1, "one page at a time, the second request is still reached")
        #expect(try await service.changeRequest(second.id).reminderSentAt != nil)
        let waiting = try await service.changeRequest(first.id)
        #expect(waiting.status == .waiting && waiting.reminderSentAt == nil && waiting.isOverdue(at: setup.clock.now))
        setup.clock.advance(by: 7 * Self.day)
        #expect(try await service.changeRequest(first.id).status == .waiting, "no decline for a reminder never sent")
        try await service.updateContacts(moved, to: Contacts(postalAddresses: [Self.address]), context: Self.context)
        _ = try await service.takeDueSteps()
        #expect(try await service.changeRequest(first.id).reminderSentAt == setup.clock.now, "the reminder goes once an address is on file")
    }

    @Test func aSelfServiceRequestSendsNoFormAndIsOverdueAfterADay() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.client("cr-self", in: setup, blocked: false, contacts: Contacts())
        let raised = try await service.raiseChangeRequest(for: subject, source: .selfService, reason: .clientRequest, reportedBy: "A. Person (online)", context: Self.context)
        #expect(raised.status == .open)
        #expect(raised.formSentAt == nil)
        #expect(try await Self.deliveries(setup).isEmpty)
        #expect(try await service.changeRequests(matching: ChangeRequestQuery(), overdueOnly: true).requests.isEmpty)
        setup.clock.advance(by: Self.day)
        #expect(try await service.takeDueSteps() == 0, "the scheduler does not decide for a caseworker")
        #expect(try await service.changeRequests(matching: ChangeRequestQuery(), overdueOnly: true).requests.map(\.id) == [raised.id])
        #expect(try await service.workflowBacklog().overdueChangeRequests == 1)
        #expect(try await service.changeRequest(raised.id).isOverdue(at: setup.clock.now))
        await #expect(throws: CredentialError.failedPrecondition(reason: "WRONG_STATUS", message: "receiving the form needs a request that is WAITING; this one is OPEN")) {
            try await service.receiveChangeRequestForm(raised.id, of: subject, context: Self.context)
        }
        for _ in 0..<3 { _ = try await service.verify(subject, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        await #expect(throws: CredentialError.failedPrecondition(reason: "BLOCKED", message: "the person was blocked after this self-service request was raised: close it and raise one by PHONE or LETTER")) {
            try await service.acceptChangeRequest(raised.id, of: subject, newDetails: SecurityFactors(pin: "5930271"), confirmBySMS: false, context: Self.context)
        }
        #expect(try await service.status(of: subject).state == .blocked, "no block is lifted without a form")
        let declined = try await service.declineChangeRequest(raised.id, of: subject, reason: "the caller could not be confirmed", context: Self.context)
        #expect(declined.status == .declined)
        #expect(try await service.changeRequests(matching: ChangeRequestQuery(), overdueOnly: true).requests.isEmpty, "an ended request is never overdue")
    }

    @Test func aRefusedRaiseWritesNothing() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let active = try await Self.client("cr-refuse-active", in: setup, blocked: false)
        let noAddress = try await Self.client("cr-refuse-address", in: setup, blocked: false, contacts: Contacts())
        let notSetUp = try SubjectID("cr-refuse-new")
        _ = try await service.enroll(notSetUp, kind: .client, context: Self.context)
        let representative = try SubjectID("cr-refuse-rep")
        _ = try await service.enroll(representative, kind: .representative, representing: active, context: Self.context)
        let blocked = try await Self.client("cr-refuse-blocked", in: setup, blocked: true)
        let auditBefore = try await service.auditEvents(limit: 1000).count

        func refusal(_ reason: String, _ subject: SubjectID, _ source: DetailsChangeRequest.Source = .phone, _ why: DetailsChangeRequest.Reason = .clientRequest) async throws -> Bool {
            do {
                _ = try await service.raiseChangeRequest(for: subject, source: source, reason: why, reportedBy: "A. Person", context: Self.context)
                return false
            } catch let CredentialError.failedPrecondition(refused, _) {
                return refused == reason
            }
        }
        #expect(try await refusal("NOT_BLOCKED", active, .phone, .blockedAfterFailedChecks))
        #expect(try await refusal("NO_POSTAL_ADDRESS", noAddress))
        #expect(try await refusal("NOT_SET_UP", notSetUp))
        #expect(try await refusal("REPRESENTATIVE", representative))
        #expect(try await refusal("BLOCKED", blocked, .selfService, .blockedAfterFailedChecks), "a blocked person's change goes through the form")
        await #expect(throws: CredentialError.invalidArgument(field: "reportedBy", reason: "REQUIRED", message: "name the person who reported the change, and their role on the case")) {
            try await service.raiseChangeRequest(for: active, source: .phone, reason: .clientRequest, reportedBy: " ", context: Self.context)
        }
        await #expect(throws: CredentialError.notFound(try SubjectID("cr-nobody"))) {
            try await service.raiseChangeRequest(for: try SubjectID("cr-nobody"), source: .phone, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        }
        #expect(try await service.changeRequests(matching: ChangeRequestQuery(), overdueOnly: false).requests.isEmpty)
        #expect(try await service.auditEvents(limit: 1000).count == auditBefore)
        #expect(try await Self.deliveries(setup).isEmpty)

        let first = try await service.raiseChangeRequest(for: active, source: .phone, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        #expect(try await refusal("REQUEST_ACTIVE", active, .selfService))
        _ = try await service.closeChangeRequest(first.id, of: active, reason: "raised on the wrong case", context: Self.context)
        let second = try await service.raiseChangeRequest(for: active, source: .selfService, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        #expect(second.id != first.id, "a closed request no longer stands in the way")
    }

    @Test func actsOnAnUnknownOrAnotherSubjectsRequestFindNothing() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let owner = try await Self.client("cr-owner", in: setup, blocked: false)
        let other = try await Self.client("cr-other", in: setup, blocked: false)
        let raised = try await service.raiseChangeRequest(for: owner, source: .letter, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        let notTheirs = CredentialError.missing(field: "changeRequestId", message: "no change request \(raised.id)")
        await #expect(throws: notTheirs) { try await service.receiveChangeRequestForm(raised.id, of: other, context: Self.context) }
        await #expect(throws: notTheirs) { try await service.declineChangeRequest(raised.id, of: other, reason: "wrong", context: Self.context) }
        await #expect(throws: notTheirs) {
            try await service.acceptChangeRequest(raised.id, of: other, newDetails: SecurityFactors(pin: "5930271"), confirmBySMS: false, context: Self.context)
        }
        let unknown = String(repeating: "0", count: 32)
        await #expect(throws: CredentialError.missing(field: "changeRequestId", message: "no change request \(unknown)")) {
            try await service.changeRequest(unknown)
        }
        #expect(try await service.changeRequest(raised.id).status == .waiting, "nothing changed")
    }

    @Test func requestsAreListedPageByPageAndFiltered() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        var raised: [DetailsChangeRequest] = []
        for index in 0..<5 {
            let subject = try await Self.client("cr-list-\(index)", in: setup, blocked: false)
            raised.append(try await service.raiseChangeRequest(for: subject, source: index.isMultiple(of: 2) ? .phone : .selfService, reason: .clientRequest, reportedBy: "Person \(index)", context: Self.context))
            setup.clock.advance(by: 60)
        }
        var query = ChangeRequestQuery()
        query.limit = 2
        var seen: [String] = []
        while true {
            let page = try await service.changeRequests(matching: query, overdueOnly: false)
            #expect(page.requests.count <= 2)
            seen += page.requests.map(\.id)
            guard let next = page.next else { break }
            query.after = next
        }
        #expect(seen == raised.map(\.id), "every request once, oldest first")

        var waiting = ChangeRequestQuery()
        waiting.statuses = [.waiting]
        #expect(try await service.changeRequests(matching: waiting, overdueOnly: false).requests.map(\.id) == [raised[0].id, raised[2].id, raised[4].id])
        var oneSubject = ChangeRequestQuery()
        oneSubject.subjectID = raised[3].subjectID
        #expect(try await service.changeRequests(matching: oneSubject, overdueOnly: false).requests.map(\.id) == [raised[3].id])
        setup.clock.advance(by: Self.day)
        #expect(try await service.changeRequests(matching: ChangeRequestQuery(), overdueOnly: true).requests.map(\.id) == [raised[1].id, raised[3].id])
        var tooMany = ChangeRequestQuery()
        tooMany.limit = 101
        await #expect(throws: CredentialError.invalidArgument(field: "pageSize", reason: "OUT_OF_RANGE", message: "pageSize is 1 to 100")) {
            try await service.changeRequests(matching: tooMany, overdueOnly: false)
        }
    }

    @Test func anActThatAnswersTheLettersWithdrawsTheOnesNotYetSent() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.client("cr-withdraw", in: setup, blocked: false)
        let audit = try await service.auditEvents(for: subject).last { $0.action == .updateContacts }
        #expect(audit?.facts.contains("postal address: LS1***") == true, "the trail shows a letter has an address, not the address")

        let received = try await service.raiseChangeRequest(for: subject, source: .phone, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        await #expect(throws: CredentialError.failedPrecondition(reason: "FORM_NOT_SENT", message: "no letter of this request has been sent yet (the letter system acknowledges it SENT first)")) {
            try await service.receiveChangeRequestForm(received.id, of: subject, context: Self.context)
        }
        #expect(try await Self.deliveries(setup).map(\.content.template) == ["CMSL9800"])
        setup.clock.advance(by: 7 * Self.day)
        #expect(try await service.takeDueSteps() == 1)
        _ = try await service.receiveChangeRequestForm(received.id, of: subject, context: Self.context)
        #expect(try await Self.deliveries(setup).isEmpty, "the form came back before the reminder went: the reminder is not posted")
        _ = try await service.closeChangeRequest(received.id, of: subject, reason: "done by phone", context: Self.context)

        let declined = try await service.raiseChangeRequest(for: subject, source: .phone, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        _ = try await service.declineChangeRequest(declined.id, of: subject, reason: "raised on the wrong case", context: Self.context)
        #expect(try await Self.deliveries(setup).isEmpty, "a declined request's form is not posted")
        #expect(try await setup.fixture.store.sealedContentCount() == 0, "withdrawn letters are erased")
    }

    @Test func aNotifierLeasesOnlyTheChannelsItSends() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.client("cr-channels", in: setup, blocked: false, contacts: Contacts(emails: ["a@example.org"], postalAddresses: [Self.address]))
        _ = try await service.raiseChangeRequest(for: subject, source: .letter, reason: .clientRequest, reportedBy: "A. Person", context: Self.context)
        _ = try await service.issueCode(to: subject, channel: .email, purpose: .stepUp, context: Self.context)
        let notifier = CallContext(caller: "printer", role: "notifier")
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 60, channels: [.sms], context: notifier).isEmpty)
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 5, context: notifier).map(\.content.template) == ["CODE_STEP_UP"], "letters only when asked for")
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 60, channels: [.letter], context: notifier).map(\.content.template) == ["CMSL9800"])
        setup.clock.advance(by: 6)
        #expect(try await service.leaseDeliveries(max: 10, leaseSeconds: 60, channels: [.email, .sms], context: notifier).map(\.content.template) == ["CODE_STEP_UP"])
    }

    @Test func theStateMachineAllowsEachActOnlyFromItsStatuses() throws {
        let timing = DetailsChangeRequest.Timing()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let (waiting, letter) = DetailsChangeRequest.raise(
            id: "a", subjectID: try SubjectID("s"), source: .letter, reason: .clientRequest, reportedBy: "p", at: start, timing: timing
        )
        #expect(letter == .form)
        #expect(waiting.dueStep(at: start.addingTimeInterval(timing.letterWait - 1)) == nil)
        #expect(waiting.dueStep(at: start.addingTimeInterval(timing.letterWait)) == .sendReminder)
        for act in [Act.accept, .decline, .close, .receive] {
            for status in DetailsChangeRequest.Status.allCases {
                var request = waiting
                request.status = status
                request.lettersDelivered = 1
                let allowed: Set<DetailsChangeRequest.Status> = switch act {
                case .accept: [.open, .inProgress]
                case .decline, .close: [.open, .inProgress, .waiting]
                case .receive: [.waiting]
                }
                let done = (try? act.apply(to: &request, at: start, timing: timing)) != nil
                #expect(done ? allowed.contains(status) : !allowed.contains(status), "\(act) from \(status)")
                if done {
                    #expect(request.dueStep(at: start.addingTimeInterval(100 * timing.letterWait)) == nil, "\(act): an answered request takes no timed step")
                }
            }
        }
    }

    enum Act {
        case accept, decline, close, receive

        func apply(to request: inout DetailsChangeRequest, at now: Date, timing: DetailsChangeRequest.Timing) throws {
            switch self {
            case .accept: try request.accept(confirmation: .notSent, personBlocked: false, at: now)
            case .decline: try request.decline(reason: "r", at: now)
            case .close: try request.close(reason: "r", at: now)
            case .receive: try request.receiveForm(at: now, timing: timing)
            }
        }
    }
}

extension Collection {
    /// The one element, or `nil` when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
