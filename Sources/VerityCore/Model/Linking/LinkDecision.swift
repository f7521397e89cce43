//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// What the portal says about the person it asks to link an account to, as MACs under the key of
/// the facts on file, so that it compares without either side being in clear.
package struct LinkClaim: Equatable, Sendable {
    package var portalAccountID: String
    package var dateOfBirthMAC: String
    package var zipCodeMAC: String
    package var county: String
    package var caseNumberMAC: String

    package init(portalAccountID: String, dateOfBirthMAC: String, zipCodeMAC: String, county: String, caseNumberMAC: String) {
        self.portalAccountID = portalAccountID
        self.dateOfBirthMAC = dateOfBirthMAC
        self.zipCodeMAC = zipCodeMAC
        self.county = county
        self.caseNumberMAC = caseNumberMAC
    }
}

/// The rules of procedure 003, as pure functions of what is on file: when a portal account is
/// linked automatically, when it is queued and in which counties, and when it is refused.
package enum LinkDecision: Equatable, Sendable {
    /// Every fact matched, the person passed a one-time code, and no county policy holds it.
    case link(PortalLink)
    /// A request in the queue of each county where the person is the primary applicant.
    case queue([LinkRequest])

    /// The state of a submission, everything the rules look at. The person proved who they are
    /// with a verified code before any of it is looked at.
    package struct Situation: Sendable {
        package var subjectID: SubjectID
        package var facts: LinkFacts?
        package var contacts: Contacts
        package var linkOfSubject: PortalLink?
        package var linkOfAccount: PortalLink?
        /// The person's requests still pending, from any account.
        package var pending: [LinkRequest]

        package init(subjectID: SubjectID, facts: LinkFacts?, contacts: Contacts, linkOfSubject: PortalLink?, linkOfAccount: PortalLink?, pending: [LinkRequest]) {
            self.subjectID = subjectID
            self.facts = facts
            self.contacts = contacts
            self.linkOfSubject = linkOfSubject
            self.linkOfAccount = linkOfAccount
            self.pending = pending
        }
    }

    /// Decides a portal's submission.
    ///
    /// - Parameter newID: makes the ids of new requests and of the submission.
    /// - Throws: the refusals of the procedure, each with its own reason.
    package static func decide(_ claim: LinkClaim, in situation: Situation, at now: Date, newID: () -> String) throws(CredentialError) -> LinkDecision {
        let facts = try checkLinkable(situation.subjectID, account: claim.portalAccountID, facts: situation.facts, linkOfSubject: situation.linkOfSubject, linkOfAccount: situation.linkOfAccount)
        guard situation.contacts.canReceiveCodes else {
            throw .failedPrecondition(reason: "NO_VERIFIABLE_CONTACT", message: "the person has no e-mail address and no phone that takes texts on file, so cannot prove who they are; the county adds one first")
        }
        // One submission at a time per account: a second would only queue the same person again.
        guard !situation.pending.contains(where: { $0.portalAccountID == claim.portalAccountID }) else {
            throw .failedPrecondition(reason: "REQUEST_PENDING", message: "a request to link this account is already waiting for the county")
        }
        // A case typed that is the person's but not one where they are the primary applicant is a
        // mismatch like any other: a caseworker sees it, the portal learns nothing from it.
        let claimedCase = facts.cases.first { $0.county == claim.county && $0.caseNumberMAC == claim.caseNumberMAC && $0.receivesRequests }
        var holds: [LinkRequest.Hold] = []
        if claim.dateOfBirthMAC != facts.dateOfBirthMAC { holds.append(.dateOfBirthMismatch) }
        if claim.zipCodeMAC != facts.zipCodeMAC { holds.append(.zipCodeMismatch) }
        if claimedCase == nil { holds.append(.caseMismatch) }
        holds += facts.policyHolds
        guard !holds.isEmpty else {
            return .link(PortalLink(portalAccountID: claim.portalAccountID, subjectID: situation.subjectID, linkedAt: now, method: .automatic))
        }
        return .queue(requests(for: situation.subjectID, account: claim.portalAccountID, facts: facts, origin: .portal, holds: holds, at: now, newID: newID))
    }

    /// The requests of one submission: one per county that receives the person's requests, all
    /// made now under one submission id.
    package static func requests(
        for subject: SubjectID, account: String, facts: LinkFacts, origin: LinkRequest.Origin, holds: [LinkRequest.Hold], at now: Date, newID: () -> String
    ) -> [LinkRequest] {
        let submission = newID()
        return facts.queueCounties.map { county in
            LinkRequest(
                id: newID(), submissionID: submission, portalAccountID: account, subjectID: subject, county: county,
                registrantName: facts.registrantName, origin: origin, holds: holds, requestedAt: now
            )
        }
    }

    /// The refusals that hold for any link, automatic or by hand, checked in the procedure's
    /// order; the facts on file when none holds.
    package static func checkLinkable(
        _ subject: SubjectID, account: String, facts: LinkFacts?, linkOfSubject: PortalLink?, linkOfAccount: PortalLink?
    ) throws(CredentialError) -> LinkFacts {
        if let linkOfAccount, linkOfAccount.subjectID != subject {
            throw .failedPrecondition(reason: "ACCOUNT_LINKED_TO_ANOTHER_PERSON", message: "this portal account is already linked to another person")
        }
        if linkOfSubject != nil {
            throw .failedPrecondition(reason: "ALREADY_LINKED", message: "this person is already linked to a portal account")
        }
        guard let facts else {
            throw .failedPrecondition(reason: "NO_LINK_FACTS", message: "the case system has put no facts on file for linking this person (Links/SetFacts)")
        }
        guard !facts.queueCounties.isEmpty else { throw notPrimary }
        return facts
    }

    private static let notPrimary = CredentialError.failedPrecondition(
        reason: "NOT_PRIMARY_APPLICANT", message: "the person is not the primary applicant on any case whose county takes link requests"
    )
}

extension Contacts {
    /// Whether a one-time code can reach the person: an e-mail address, or a phone that takes texts.
    package var canReceiveCodes: Bool {
        !emails.isEmpty || phones.contains { $0.type.acceptsTextMessages }
    }
}
