//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A person whom nothing on file could confirm, waiting to send a copy of an identity document
/// (procedure 000, steps 2 and 3). The request is why a later change of the password was
/// allowed: the audit trail shows it opened, and confirmed by a caseworker with a reason.
package struct RecoveryRequest: Equatable, Sendable {
    package enum Status: String, CaseIterable, Sendable {
        /// Waiting for the copy of a document.
        case awaitingDocument = "AWAITING_DOCUMENT"
        /// A caseworker confirmed the document.
        case documentConfirmed = "DOCUMENT_CONFIRMED"
        /// Nothing was confirmed before ``RecoveryRequest/expiresAt``.
        case expired = "EXPIRED"
    }

    package var id: String
    package var subjectID: SubjectID
    /// As stored; ``status(at:)`` is what it is at a given time.
    package var storedStatus: Status
    package var openedAt: Date
    package var expiresAt: Date
    /// When the document was confirmed. (An expired request is derived from ``expiresAt``.)
    package var closedAt: Date?

    package init(id: String, subjectID: SubjectID, storedStatus: Status, openedAt: Date, expiresAt: Date, closedAt: Date? = nil) {
        self.id = id
        self.subjectID = subjectID
        self.storedStatus = storedStatus
        self.openedAt = openedAt
        self.expiresAt = expiresAt
        self.closedAt = closedAt
    }

    /// The status at `now`: a request still awaiting its document past its time has expired,
    /// whether or not anyone has looked at it since.
    package func status(at now: Date) -> Status {
        storedStatus == .awaitingDocument && now >= expiresAt ? .expired : storedStatus
    }

    /// Confirms the document, or says why it cannot be.
    mutating func confirm(at now: Date) throws(CredentialError) {
        switch status(at: now) {
        case .awaitingDocument:
            storedStatus = .documentConfirmed
            closedAt = now
        case .expired:
            throw .failedPrecondition(reason: "REQUEST_EXPIRED", message: "the request expired on \(Timestamp.string(from: expiresAt)); open a new one")
        case .documentConfirmed:
            throw .failedPrecondition(reason: "REQUEST_CLOSED", message: "the document was already confirmed")
        }
    }
}
