//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// One person known to a case system, with the state of their security details.
///
/// A representative is a subject of their own: their details are never the client's, and
/// nothing done to one changes the other.
package struct Subject: Equatable, Sendable {
    package var id: SubjectID
    package var kind: SubjectKind
    /// The client a representative acts for; `nil` for clients.
    package var representsSubjectID: SubjectID?
    package var state: SubjectState
    /// Failed security checks since the last success or unblock; the source of truth for the lock.
    package var consecutiveFailures: Int
    /// Failed security checks ever recorded: a success clears failures up to the serial its
    /// check saw when it was reserved (``CheckLock``).
    package var failureSerial: Int64
    /// Checks reserved and not yet finished; they count against the limit while in flight.
    package var pendingChecks: [PendingCheck]
    package var blockedAt: Date?
    package var blockReason: String?
    package var credentials: StoredCredentials
    package var contacts: Contacts
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: SubjectID,
        kind: SubjectKind,
        representsSubjectID: SubjectID? = nil,
        state: SubjectState = .notSetUp,
        consecutiveFailures: Int = 0,
        failureSerial: Int64 = 0,
        pendingChecks: [PendingCheck] = [],
        blockedAt: Date? = nil,
        blockReason: String? = nil,
        credentials: StoredCredentials = StoredCredentials(),
        contacts: Contacts = Contacts(),
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.representsSubjectID = representsSubjectID
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.failureSerial = failureSerial
        self.pendingChecks = pendingChecks
        self.blockedAt = blockedAt
        self.blockReason = blockReason
        self.credentials = credentials
        self.contacts = contacts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Whether a subject is a client or someone acting for one.
package enum SubjectKind: String, CaseIterable, Codable, Sendable {
    case client = "CLIENT"
    case representative = "REPRESENTATIVE"
}

/// Where a subject stands with their security details.
///
/// ```
/// NOT_SET_UP ──set details──▶ ACTIVE ──3rd consecutive failure──▶ BLOCKED
///     │                        ▲  │                                  │
///     └──apply defaults──▶ DEFAULTS_APPLIED ◀──apply defaults──┘    │
///                              │  ▲                                  │
///                  set details─┘  └────────── unblock ──▶ ACTIVE ◀───┘
/// ```
package enum SubjectState: String, CaseIterable, Codable, Sendable {
    /// Enrolled, no details yet: nothing can be verified.
    case notSetUp = "NOT_SET_UP"
    /// The person could not be reached or refused; nothing can be verified until real details are set.
    case defaultsApplied = "DEFAULTS_APPLIED"
    /// Details set; checks are evaluated.
    case active = "ACTIVE"
    /// Too many consecutive failures; every check answers BLOCKED until an unblock.
    case blocked = "BLOCKED"
}

/// The hashes of a subject's secrets, as stored. Never the secrets themselves.
package struct StoredCredentials: Equatable, Sendable {
    package var pinHash: String?
    /// The password as first typed, compared exactly on the portal.
    package var passwordHash: String?
    /// The password as spoken (case folded, spacing removed), compared on the phone.
    package var spokenPasswordHash: String?
    package var ivrPinHash: String?
    package var ivrPinUpdatedAt: Date?
    /// The facts on file for a fallback identity check (``IdentityFacts``), hashed like secrets.
    package var identityDocumentHash: String?
    package var placeOfBirthHash: String?
    /// Every child's name and date of birth, hashed as one.
    package var childrenHash: String?

    package init(
        pinHash: String? = nil,
        passwordHash: String? = nil,
        spokenPasswordHash: String? = nil,
        ivrPinHash: String? = nil,
        ivrPinUpdatedAt: Date? = nil,
        identityDocumentHash: String? = nil,
        placeOfBirthHash: String? = nil,
        childrenHash: String? = nil
    ) {
        self.pinHash = pinHash
        self.passwordHash = passwordHash
        self.spokenPasswordHash = spokenPasswordHash
        self.ivrPinHash = ivrPinHash
        self.ivrPinUpdatedAt = ivrPinUpdatedAt
        self.identityDocumentHash = identityDocumentHash
        self.placeOfBirthHash = placeOfBirthHash
        self.childrenHash = childrenHash
    }

    /// The kinds of fact on file.
    package var factsOnFile: [FactKind] {
        FactKind.allCases.filter { CredentialSlot.fact($0).hash(in: self) != nil }
    }
}
