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
import VerityTestSupport

/// Procedure 003: a portal account is linked automatically only on a full match with a verified
/// code; otherwise it waits in the queue of every county where the person is the primary
/// applicant, and caseworkers link, reject or unlink.
@Suite("Linking portal accounts")
struct LinkingTests {
    static let notifier = CallContext(caller: "mailer", role: "notifier")
    static let account = "0f8fad5b-d9cb-469f-a165-70867728950e"
    static let otherAccount = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

    struct Setup {
        let fixture: ServiceFixture
        let clock: TestClock
        var service: CredentialService { fixture.service }
    }

    static func setUp() throws -> Setup {
        let clock = TestClock()
        return Setup(fixture: try ServiceFixture(now: clock.closure), clock: clock)
    }

    /// A person with an e-mail on file and cases in Los Angeles and Orange (primary), and in San
    /// Diego (primary, but permanently out of the home).
    static func person(_ id: String, in setup: Setup, contacts: Contacts = Contacts(emails: ["pat@example.org"]), childrenServices: Bool = false) async throws -> SubjectID {
        let subject = try SubjectID(id)
        _ = try await setup.service.enroll(subject, kind: .client, contacts: contacts, context: .agent)
        let facts = LinkFactsInput(registrantName: "Pat Quillfeather", dateOfBirth: "1985-04-12", zipCode: "90210-1234", cases: [
            .init(county: "Los Angeles", caseNumber: "LA-100200", primaryApplicant: true, childrenServicesActive: childrenServices),
            .init(county: "orange", caseNumber: "OC 300400", primaryApplicant: true),
            .init(county: "San Diego", caseNumber: "SD500600", primaryApplicant: true, permanentlyOutOfHome: true),
            .init(county: "Kern", caseNumber: "KE700800", primaryApplicant: false),
        ])
        #expect(try await setup.service.setLinkFacts(subject, facts, context: .agent) == 4)
        #expect(try await setup.service.keyInventory().counts.keys.contains { $0.item == "link facts" })
        return subject
    }

    /// What the person types on the portal, right unless changed.
    static func claim(zip: String = "90210", county: String = "LOS ANGELES", caseNumber: String = "la100200", account: String = account) -> LinkClaimInput {
        LinkClaimInput(portalAccountID: account, dateOfBirth: "04/12/1985", zipCode: zip, county: county, caseNumber: caseNumber)
    }

    /// A verified ACCOUNT_LINK challenge of the subject.
    static func verifiedChallenge(_ subject: SubjectID, in setup: Setup) async throws -> String {
        let issued = try await setup.service.issueCode(to: subject, channel: .email, purpose: .accountLink, context: .verifier)
        let delivery = try #require(try await setup.service.leaseDeliveries(max: 100, leaseSeconds: 60, context: notifier).last)
        try await setup.service.acknowledgeDelivery(delivery.id, leaseToken: delivery.leaseToken, outcome: .sent, context: notifier)
        let code = try #require(delivery.content.variables["code"])
        #expect(try await setup.service.verifyCode(challenge: issued.challengeID, code: code, subject: subject, purpose: .accountLink, context: .verifier).outcome == .verified)
        return issued.challengeID
    }

    static func queued(_ decision: LinkDecision) -> [LinkRequest] {
        if case let .queue(requests) = decision { requests } else { [] }
    }

    @Test func aFullMatchWithAVerifiedCodeLinksAtOnce() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.person("link-1", in: setup)
        let challenge = try await Self.verifiedChallenge(subject, in: setup)
        let decision = try await service.submitLink(subject, Self.claim(), challenge: challenge, context: .verifier)
        guard case let .link(link) = decision else { Issue.record("not linked: \(decision)"); return }
        #expect(link.method == .automatic && link.portalAccountID == Self.account)
        let again = try await Self.verifiedChallenge(subject, in: setup)
        await #expect(throws: CredentialError.failedPrecondition(reason: "ALREADY_LINKED", message: "this person is already linked to a portal account")) {
            try await service.submitLink(subject, Self.claim(account: Self.otherAccount), challenge: again, context: .verifier)
        }
        let someoneElse = try await Self.person("link-2", in: setup)
        let theirs = try await Self.verifiedChallenge(someoneElse, in: setup)
        await #expect(throws: CredentialError.failedPrecondition(reason: "ACCOUNT_LINKED_TO_ANOTHER_PERSON", message: "this portal account is already linked to another person")) {
            try await service.submitLink(someoneElse, Self.claim(), challenge: theirs, context: .verifier)
        }
        #expect(try await service.auditEvents(for: subject).last { $0.action == .submitLink }?.outcome == "LINKED")
    }

    @Test(arguments: [
        (claim(zip: "90211"), [LinkRequest.Hold.zipCodeMismatch]),
        (claim(caseNumber: "LA100201"), [.caseMismatch]),
        (claim(county: "San Diego", caseNumber: "SD500600"), [.caseMismatch]),
        (claim(county: "Kern", caseNumber: "KE700800"), [.caseMismatch]),
        (LinkClaimInput(portalAccountID: account, dateOfBirth: "1985-12-04", zipCode: "90210", county: "Los Angeles", caseNumber: "LA100200"), [.dateOfBirthMismatch]),
    ])
    func anyMismatchQueuesTheRequestInEveryCountyWhereThePersonIsPrimary(claim: LinkClaimInput, holds: [LinkRequest.Hold]) async throws {
        let setup = try Self.setUp()
        let subject = try await Self.person("link-3", in: setup)
        let challenge = try await Self.verifiedChallenge(subject, in: setup)
        let requests = Self.queued(try await setup.service.submitLink(subject, claim, challenge: challenge, context: .verifier))
        #expect(requests.map(\.county) == ["LOS ANGELES", "ORANGE"], "not San Diego (out of the home), not Kern (not primary)")
        #expect(try await setup.service.workflowBacklog().pendingLinkRequests == 2)
        #expect(requests.allSatisfy { $0.holds == holds && $0.status == .pending && $0.submissionID == requests[0].submissionID })
        // The code was used by this submission: it proves nothing more.
        await #expect(throws: CredentialError.failedPrecondition(reason: "GRANT_USED", message: "the verified code was already used for its act; issue a new code")) {
            try await setup.service.submitLink(subject, Self.claim(account: Self.otherAccount), challenge: challenge, context: .verifier)
        }
    }

    @Test func withoutAVerifiedCodeNothingIsSubmittedAndAPolicyHoldIsQueued() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let plain = try await Self.person("link-4", in: setup)
        let unverified = try await service.issueCode(to: plain, channel: .email, purpose: .accountLink, context: .verifier)
        await #expect(throws: CredentialError.failedPrecondition(reason: "CODE_NOT_VERIFIED", message: "the one-time code of this challenge has not been verified (Mfa/VerifyCode)")) {
            try await service.submitLink(plain, Self.claim(), challenge: unverified.challengeID, context: .verifier)
        }
        let stepUp = try await service.issueCode(to: plain, channel: .email, purpose: .stepUp, context: .verifier)
        await #expect(throws: CredentialError.missing(field: "challengeId", message: "no ACCOUNT_LINK challenge with this id for this subject")) {
            try await service.submitLink(plain, Self.claim(), challenge: stepUp.challengeID, context: .verifier)
        }
        let protected = try await Self.person("link-5", in: setup, childrenServices: true)
        let challenge = try await Self.verifiedChallenge(protected, in: setup)
        let held = Self.queued(try await service.submitLink(protected, Self.claim(account: Self.otherAccount), challenge: challenge, context: .verifier))
        #expect(held.first?.holds == [.childrenServices], "a full match with a verified code still waits for the county")
        let again = try await Self.verifiedChallenge(protected, in: setup)
        await #expect(throws: CredentialError.failedPrecondition(reason: "REQUEST_PENDING", message: "a request to link this account is already waiting for the county")) {
            try await service.submitLink(protected, Self.claim(account: Self.otherAccount), challenge: again, context: .verifier)
        }
        var none = LinkRequestQuery()
        none.subjectID = plain
        #expect(try await service.linkRequests(matching: none).requests.isEmpty, "nothing was queued without proof")
    }

    @Test func eachRefusalHasItsOwnReasonAndWritesNothing() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.person("link-6", in: setup)
        let bare = try SubjectID("link-8")
        _ = try await service.enroll(bare, kind: .client, contacts: Contacts(emails: ["a@example.org"]), context: .agent)
        let bareChallenge = try await Self.verifiedChallenge(bare, in: setup)
        await #expect(throws: CredentialError.failedPrecondition(reason: "NO_LINK_FACTS", message: "the case system has put no facts on file for linking this person (Links/SetFacts)")) {
            try await service.submitLink(bare, Self.claim(), challenge: bareChallenge, context: .verifier)
        }
        let secondary = try SubjectID("link-9")
        _ = try await service.enroll(secondary, kind: .client, contacts: Contacts(emails: ["b@example.org"]), context: .agent)
        _ = try await service.setLinkFacts(secondary, LinkFactsInput(registrantName: "Sam", dateOfBirth: "1985-04-12", zipCode: "90210", cases: [
            .init(county: "Kern", caseNumber: "KE700800", primaryApplicant: false),
        ]), context: .agent)
        let secondaryChallenge = try await Self.verifiedChallenge(secondary, in: setup)
        await #expect(throws: CredentialError.failedPrecondition(reason: "NOT_PRIMARY_APPLICANT", message: "the person is not the primary applicant on any case whose county takes link requests")) {
            try await service.submitLink(secondary, Self.claim(county: "Kern", caseNumber: "KE700800"), challenge: secondaryChallenge, context: .verifier)
        }
        let challenge = try await Self.verifiedChallenge(subject, in: setup)
        await #expect(throws: CredentialError.invalidArgument(field: "portalAccountId", reason: "INVALID_VALUE", message: "portalAccountId is a GUID, such as 0f8fad5b-d9cb-469f-a165-70867728950e")) {
            try await service.submitLink(subject, Self.claim(account: "not-a-guid"), challenge: challenge, context: .verifier)
        }
        for zip in ["9021", "1-2-3-4-5", "90210-12"] {
            await #expect(throws: CredentialError.invalidArgument(field: "zipCode", reason: "INVALID_VALUE", message: "a ZIP code is 5 digits, or 5 and 4 (ZIP+4)")) {
                try await service.submitLink(subject, Self.claim(zip: zip), challenge: challenge, context: .verifier)
            }
        }
        var query = LinkRequestQuery()
        query.statuses = []
        #expect(try await service.linkRequests(matching: query).requests.isEmpty)
        // The refused submissions left the grant unused: it still links.
        let decision = try await service.submitLink(subject, Self.claim(), challenge: challenge, context: .verifier)
        guard case .link = decision else { Issue.record("not linked: \(decision)"); return }
    }

    @Test func processingOneCountysRequestProcessesItsSubmissionOnly() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.person("link-9", in: setup)
        let first = Self.queued(try await service.submitLink(subject, Self.claim(zip: "90211"), challenge: try await Self.verifiedChallenge(subject, in: setup), context: .verifier))
        setup.clock.advance(by: 3600)
        let later = Self.queued(try await service.submitLink(
            subject, Self.claim(zip: "90211", account: Self.otherAccount), challenge: try await Self.verifiedChallenge(subject, in: setup), context: .verifier
        ))
        let processed = try await service.processLinkRequest(first[1].id, context: .agent)
        #expect(Set(processed.map(\.id)) == Set(first.map(\.id)), "the same submission, in both counties")
        #expect(try await service.linkRequestDetails(first[0].id, context: .agent).request.status == .processed)
        #expect(try await service.linkRequestDetails(first[0].id, context: .agent).link?.method == .manual)
        let laterDetails = try await service.linkRequestDetails(later[0].id, context: .agent)
        #expect(laterDetails.request.status == .pending, "submitted at another time: processed separately")
        #expect(laterDetails.otherPending.isEmpty, "the first submission's requests are processed")
        await #expect(throws: CredentialError.failedPrecondition(reason: "ALREADY_LINKED", message: "this person is already linked to a portal account")) {
            try await service.processLinkRequest(later[0].id, context: .agent)
        }
        _ = try await service.rejectLinkRequest(later[0].id, reason: "duplicate of the linked request", context: .agent)
        #expect(try await service.linkRequestDetails(later[1].id, context: .agent).request.status == .pending, "a rejection leaves the other counties' requests pending")
    }

    @Test func unlinkingQueuesThePersonAgainInEveryCounty() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.person("link-10", in: setup)
        let challenge = try await Self.verifiedChallenge(subject, in: setup)
        _ = try await service.submitLink(subject, Self.claim(), challenge: challenge, context: .verifier)
        let requeued = try await service.unlinkPortalAccount(subject, reason: "linked to the wrong person by mistake", context: .admin)
        #expect(requeued.map(\.county) == ["LOS ANGELES", "ORANGE"])
        #expect(requeued.allSatisfy { $0.origin == .unlink && $0.holds == [.unlinked] && $0.portalAccountID == Self.account })
        #expect(try await setup.fixture.store.portalLink(of: subject) == nil)
        await #expect(throws: CredentialError.failedPrecondition(reason: "NOT_LINKED", message: "the person is not linked to a portal account")) {
            try await service.unlinkPortalAccount(subject, reason: "again", context: .admin)
        }
        let rejected = try await service.rejectLinkRequest(requeued[0].id, reason: "customer privacy review", context: .agent)
        #expect(rejected.status == .rejected && rejected.decision == "customer privacy review")
        await #expect(throws: CredentialError.failedPrecondition(reason: "REQUEST_CLOSED", message: "rejecting needs a PENDING link request; this one is REJECTED")) {
            try await service.rejectLinkRequest(requeued[0].id, reason: "twice", context: .agent)
        }
        #expect(try await service.processLinkRequest(requeued[1].id, context: .agent).count == 1, "the rejected one stays rejected")
    }

    @Test func ofTenParallelSubmissionsOnOneGrantExactlyOneIsDecided() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.person("link-parallel", in: setup)
        let challenge = try await Self.verifiedChallenge(subject, in: setup)
        let linked = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let account = "0f8fad5b-d9cb-469f-a165-7086772895\(10 + index)"
                    return (try? await service.submitLink(subject, Self.claim(account: account), challenge: challenge, context: .verifier)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(linked == 1)
        #expect(try await setup.fixture.store.portalLink(of: subject) != nil)
    }

    @Test func twoCountiesLinkingOneSubmissionAtOnceLinkItOnce() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        let subject = try await Self.person("link-race", in: setup)
        let requests = Self.queued(try await service.submitLink(subject, Self.claim(zip: "90211"), challenge: try await Self.verifiedChallenge(subject, in: setup), context: .verifier))
        async let losAngeles = try? service.processLinkRequest(requests[0].id, context: .agent)
        async let orange = try? service.processLinkRequest(requests[1].id, context: .agent)
        let outcomes = await [losAngeles, orange]
        #expect(outcomes.compactMap { $0 }.count == 1, "one county links; the other finds its request processed")
        #expect(outcomes.compactMap { $0 }.first?.count == 2)
    }

    @Test func theQueueIsSearchedByStatusNameCountyAndDatePageByPage() async throws {
        let setup = try Self.setUp()
        let service = setup.service
        var all: [LinkRequest] = []
        for index in 0..<3 {
            let subject = try await Self.person("link-search-\(index)", in: setup)
            let challenge = try await Self.verifiedChallenge(subject, in: setup)
            all += Self.queued(try await service.submitLink(subject, Self.claim(zip: "90211", account: "0f8fad5b-d9cb-469f-a165-7086772895\(10 + index)"), challenge: challenge, context: .verifier))
            setup.clock.advance(by: 86400)
        }
        var query = LinkRequestQuery()
        query.limit = 4
        var seen: [String] = []
        while true {
            let page = try await service.linkRequests(matching: query)
            seen += page.requests.map(\.id)
            guard let next = page.next else { break }
            query.after = next
        }
        #expect(seen == all.sorted { ($0.requestedAt, $0.id) < ($1.requestedAt, $1.id) }.map(\.id), "every request once, oldest first")
        var orange = LinkRequestQuery()
        orange.county = "  orange "
        orange.registrantName = "QUÍLL"
        orange.requestedFrom = all[2].requestedAt
        orange.requestedTo = all[3].requestedAt
        #expect(try await service.linkRequests(matching: orange).requests.map(\.id) == [all[3].id])
    }

    @Test func noLinkFactReachesTheDatabaseTheLogsOrTheAuditTrail() async throws {
        let setup = try Self.setUp()
        let subject = try await Self.person("link-hygiene", in: setup)
        _ = try await setup.service.submitLink(subject, Self.claim(zip: "90211"), challenge: try await Self.verifiedChallenge(subject, in: setup), context: .verifier)
        let audit = try await setup.service.auditEvents(limit: 1000).flatMap(\.facts).joined(separator: "\n")
        let places = [("the logs", setup.fixture.logs.text), ("the audit trail", audit)]
            + (try setup.fixture.directory.allFileContents()).map { ($0.name, String(decoding: $0.bytes, as: UTF8.self)) }
        for (place, text) in places {
            for fact in ["1985-04-12", "19850412", "04/12/1985", "90210", "90211", "LA100200", "OC300400", "la100200"] {
                let leaked = text.contains(fact)
                #expect(!leaked, "\(fact) reached \(place)")
            }
        }
    }
}
