//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Recovery: a person who forgot their password (procedure 000). Facts are JSON
// strings, compared in a canonical form (proto-spec/recovery.md), and never returned.

/// A government-issued identity document.
public struct IdentityDocumentMessage: Codable, Equatable, Sendable {
    /// `DRIVERS_LICENSE`, `STATE_ID`, `PASSPORT` or `OTHER`.
    public var kind: IdentityDocumentKindName
    /// 4 to 32 letters or digits, compared on those alone, folded (`D 0427-7719-35` is
    /// `d0427771935`).
    public var number: String
    /// The issuing state or country.
    public var issuer: String

    /// Creates a document; see the properties.
    public init(kind: IdentityDocumentKindName, number: String, issuer: String) {
        self.kind = kind
        self.number = number
        self.issuer = issuer
    }
}

/// Where the person was born.
public struct PlaceOfBirthMessage: Codable, Equatable, Sendable {
    /// Compared as words, folded, without punctuation (`St. Louis` is `st louis`).
    public var city: String
    /// The state or country, compared as the city is.
    public var state: String

    /// Creates a place of birth; see the properties.
    public init(city: String, state: String) {
        self.city = city
        self.state = state
    }
}

/// One child's full name and date of birth.
public struct ChildMessage: Codable, Equatable, Sendable {
    /// At least two words, compared as a set in any order (`Van Buren, Mary Ann` is
    /// `Mary Ann Van Buren`).
    public var fullName: String
    /// `YYYY-MM-DD`, `MM/DD/YYYY` or `YYYYMMDD`.
    public var dateOfBirth: String

    /// Creates a child; see the properties.
    public init(fullName: String, dateOfBirth: String) {
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
    }
}

/// `Recovery/SetFacts` and `Recovery/CheckFacts` request: the facts given, any of the three.
public struct FactsRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose facts are set or checked.
    public var subjectId: String
    /// The identity document. `SetFacts` needs at least one of the three facts; `CheckFacts`, the
    /// ones the procedure compares.
    public var identityDocument: IdentityDocumentMessage?
    /// The place of birth.
    public var placeOfBirth: PlaceOfBirthMessage?
    /// Every child, in any order.
    public var children: [ChildMessage]?

    /// Creates a request; see the properties.
    public init(
        subjectId: String, identityDocument: IdentityDocumentMessage? = nil, placeOfBirth: PlaceOfBirthMessage? = nil, children: [ChildMessage]? = nil
    ) {
        self.subjectId = subjectId
        self.identityDocument = identityDocument
        self.placeOfBirth = placeOfBirth
        self.children = children
    }
}

/// `Recovery/SetFacts` request.
public typealias SetFactsRequest = FactsRequest
/// `Recovery/CheckFacts` request.
public typealias CheckFactsRequest = FactsRequest

/// `Recovery/SetFacts` and `Recovery/RemoveFacts` response: the kinds of fact on file now.
public struct FactsOnFileResponse: Codable, Equatable, Sendable {
    /// The kinds on file, in the order `IDENTITY_DOCUMENT`, `PLACE_OF_BIRTH`, `CHILDREN`.
    public var factsOnFile: [FactKindName]

    /// Creates a response; see the properties.
    public init(factsOnFile: [FactKindName]) {
        self.factsOnFile = factsOnFile
    }
}

/// `Recovery/SetFacts` response.
public typealias SetFactsResponse = FactsOnFileResponse
/// `Recovery/RemoveFacts` response.
public typealias RemoveFactsResponse = FactsOnFileResponse

/// `Recovery/RemoveFacts` request.
public struct RemoveFactsRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose facts are removed.
    public var subjectId: String
    /// Required, not empty: the kinds to remove, each on file (else nothing is removed).
    public var facts: [FactKindName]
    /// Why, for the audit trail.
    public var reason: String

    /// Creates a request; see the properties.
    public init(subjectId: String, facts: [FactKindName], reason: String) {
        self.subjectId = subjectId
        self.facts = facts
        self.reason = reason
    }
}

/// `Recovery/CheckFacts` response.
public struct CheckFactsResponse: Codable, Equatable, Sendable {
    /// `VERIFIED`, `MISMATCH`, `BLOCKED` or `NOT_SET_UP`, as for any check.
    public var result: VerificationResultName
    /// Checks left before the subject is blocked, as for `Credentials/Verify`.
    public var attemptsRemaining: Int
    /// The facts the procedure required and that were compared (none when not evaluated).
    public var checked: [FactKindName]
    /// The facts compared when VERIFIED; empty otherwise: a mismatch never says which was wrong.
    public var matched: [FactKindName]

    /// Creates a response; see the properties.
    public init(result: VerificationResultName, attemptsRemaining: Int, checked: [FactKindName], matched: [FactKindName]) {
        self.result = result
        self.attemptsRemaining = attemptsRemaining
        self.checked = checked
        self.matched = matched
    }
}

/// `Recovery/RemovePassword` request.
public struct RemovePasswordRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose password is removed; its PIN stays.
    public var subjectId: String
    /// Why, for the audit trail.
    public var reason: String

    /// Creates a request; see the properties.
    public init(subjectId: String, reason: String) {
        self.subjectId = subjectId
        self.reason = reason
    }
}

/// `Recovery/RemovePassword` response.
public typealias RemovePasswordResponse = StateResponse

/// `Recovery/OpenRequest` request.
public typealias OpenRequestRequest = SubjectRequest

/// `Recovery/ConfirmDocument` request.
public struct ConfirmDocumentRequest: Codable, Equatable, Sendable {
    /// Required: the id `Recovery/OpenRequest` answered, 32 lower-case hexadecimal digits.
    public var recoveryRequestId: String
    /// The subject the request is for: a request of another subject answers NOT_FOUND.
    public var subjectId: String
    /// Why the document is accepted, for the audit trail (kept as written: never a fact).
    public var reason: String

    /// Creates a request; see the properties.
    public init(recoveryRequestId: String, subjectId: String, reason: String) {
        self.recoveryRequestId = recoveryRequestId
        self.subjectId = subjectId
        self.reason = reason
    }
}

/// `Recovery/GetRequest` request.
public struct GetRequestRequest: Codable, Equatable, Sendable {
    /// Required: 32 lower-case hexadecimal digits.
    public var recoveryRequestId: String

    /// Creates a request; see the properties.
    public init(recoveryRequestId: String) {
        self.recoveryRequestId = recoveryRequestId
    }
}

/// A recovery request, as every Recovery request method answers it.
public struct RecoveryRequestResponse: Codable, Equatable, Sendable {
    /// 32 lower-case hexadecimal digits (not to be confused with `metadata.requestId`, which
    /// correlates logs).
    public var recoveryRequestId: String
    /// The subject the request is for.
    public var subjectId: String
    /// As it stands now: a request still awaiting its document past `expiresAt` is `EXPIRED`.
    public var status: RecoveryStatusName
    /// When it was opened (RFC 3339 UTC with milliseconds).
    public var openedAt: String
    /// When it expires unless confirmed: 14 days after opening, unless configured.
    public var expiresAt: String
    /// When the document was confirmed (RFC 3339 UTC with milliseconds); absent otherwise.
    public var closedAt: String?

    /// Creates a response; see the properties.
    public init(recoveryRequestId: String, subjectId: String, status: RecoveryStatusName, openedAt: String, expiresAt: String, closedAt: String?) {
        self.recoveryRequestId = recoveryRequestId
        self.subjectId = subjectId
        self.status = status
        self.openedAt = openedAt
        self.expiresAt = expiresAt
        self.closedAt = closedAt
    }
}
