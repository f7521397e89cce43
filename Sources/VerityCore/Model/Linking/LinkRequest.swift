//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A request, in one county's queue, to link a portal account to a person by hand (procedure
/// 003): the portal could not link it automatically, or a caseworker unlinked the account.
///
/// One submission puts a request in the queue of every county where the person is the primary
/// applicant and not permanently out of the home; processing one processes the others of the
/// same submission, while rejecting one leaves the others pending.
package struct LinkRequest: Equatable, Sendable {
    package enum Status: String, CaseIterable, Sendable {
        case pending = "PENDING"
        case processed = "PROCESSED"
        case rejected = "REJECTED"
    }

    /// How the request came to be.
    package enum Origin: String, CaseIterable, Codable, Sendable {
        /// The portal submitted it and it could not be linked automatically.
        case portal = "PORTAL"
        /// A caseworker unlinked the account; the person is queued to be linked again.
        case unlink = "UNLINK"
    }

    /// Why a request could not be linked automatically; shown to the caseworker.
    package enum Hold: String, CaseIterable, Codable, Sendable {
        case dateOfBirthMismatch = "DATE_OF_BIRTH_MISMATCH"
        case zipCodeMismatch = "ZIP_CODE_MISMATCH"
        /// The county and case number given match no case where the person is the primary
        /// applicant and not permanently out of the home.
        case caseMismatch = "CASE_MISMATCH"
        /// An associated case has an active Children Services program.
        case childrenServices = "CHILDREN_SERVICES"
        /// The person has an active customer privacy record.
        case customerPrivacy = "CUSTOMER_PRIVACY"
        /// The account was unlinked by a caseworker.
        case unlinked = "UNLINKED"
    }

    package var id: String
    /// Requests made at the same time for the same person share it.
    package var submissionID: String
    package var portalAccountID: String
    package var subjectID: SubjectID
    package var county: String
    package var registrantName: String
    package var status: Status
    package var origin: Origin
    package var holds: [Hold]
    package var requestedAt: Date
    package var decidedAt: Date?
    /// Why a request was rejected, or which request's processing processed it.
    package var decision: String?

    package init(
        id: String, submissionID: String, portalAccountID: String, subjectID: SubjectID, county: String, registrantName: String,
        status: Status = .pending, origin: Origin, holds: [Hold], requestedAt: Date, decidedAt: Date? = nil, decision: String? = nil
    ) {
        self.id = id
        self.submissionID = submissionID
        self.portalAccountID = portalAccountID
        self.subjectID = subjectID
        self.county = county
        self.registrantName = registrantName
        self.status = status
        self.origin = origin
        self.holds = holds
        self.requestedAt = requestedAt
        self.decidedAt = decidedAt
        self.decision = decision
    }

    /// Marks the request processed: the account is linked.
    package mutating func process(at now: Date, decision: String) throws(CredentialError) {
        try requirePending(for: "processing")
        status = .processed
        decidedAt = now
        self.decision = decision
    }

    /// Rejects the request with the caseworker's reason.
    package mutating func reject(reason: String, at now: Date) throws(CredentialError) {
        try requirePending(for: "rejecting")
        status = .rejected
        decidedAt = now
        decision = reason
    }

    private func requirePending(for act: String) throws(CredentialError) {
        guard status == .pending else {
            throw .failedPrecondition(reason: "REQUEST_CLOSED", message: "\(act) needs a PENDING link request; this one is \(status.rawValue)")
        }
    }
}
