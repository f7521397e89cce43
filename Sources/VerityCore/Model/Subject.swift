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
public struct Subject: Equatable, Sendable {
    public var id: SubjectID
    public var kind: SubjectKind
    /// The client a representative acts for; `nil` for clients.
    public var representsSubjectID: SubjectID?
    public var state: SubjectState
    /// Failed security checks since the last success or unblock; the source of truth for the lock.
    public var consecutiveFailures: Int
    /// Failed security checks ever recorded: a success clears failures up to the serial its
    /// check saw when it was reserved (``CheckLock``).
    public var failureSerial: Int64
    /// Checks reserved and not yet finished; they count against the limit while in flight.
    public var pendingChecks: [PendingCheck]
    public var blockedAt: Date?
    public var blockReason: String?
    public var credentials: StoredCredentials
    public var contacts: Contacts
    public var createdAt: Date
    public var updatedAt: Date

    public init(
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
public enum SubjectKind: String, CaseIterable, Codable, Sendable {
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
public enum SubjectState: String, CaseIterable, Codable, Sendable {
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
public struct StoredCredentials: Equatable, Sendable {
    public var pinHash: String?
    /// The password as first typed, compared exactly on the portal.
    public var passwordHash: String?
    /// The password as spoken (case folded, spacing removed), compared on the phone.
    public var spokenPasswordHash: String?
    public var ivrPinHash: String?
    public var ivrPinUpdatedAt: Date?
    /// The facts on file for a fallback identity check (``IdentityFacts``), hashed like secrets.
    public var identityDocumentHash: String?
    public var placeOfBirthHash: String?
    /// Every child's name and date of birth, hashed as one.
    public var childrenHash: String?

    public init(
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
    public var factsOnFile: [FactKind] {
        FactKind.allCases.filter { CredentialSlot.fact($0).hash(in: self) != nil }
    }
}
