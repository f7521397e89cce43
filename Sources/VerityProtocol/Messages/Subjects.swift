//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Subjects: enrolment, contacts and status. Enum values travel as their UPPER_SNAKE
// names (strings) and are checked by the server, which answers INVALID_VALUE for unknown ones.

/// `Subjects/Enroll` request.
public struct EnrollRequest: Codable, Equatable, Sendable {
    /// Required: the caller's own stable id for the person, 1 to 128 characters of
    /// `A-Z a-z 0-9 . _ : / -` (such as `case-1234567/PWC`).
    public var subjectId: String
    /// `CLIENT` or `REPRESENTATIVE`.
    public var kind: SubjectKindName
    /// The enrolled client this representative acts for: required for a `REPRESENTATIVE`, not
    /// allowed for a `CLIENT`.
    public var representsSubjectId: String?
    /// The contacts to put on file; none when absent.
    public var contacts: ContactsMessage?

    /// Creates a request; see the properties.
    public init(subjectId: String, kind: SubjectKindName, representsSubjectId: String? = nil, contacts: ContactsMessage? = nil) {
        self.subjectId = subjectId
        self.kind = kind
        self.representsSubjectId = representsSubjectId
        self.contacts = contacts
    }
}

/// `Subjects/Enroll` response.
public struct EnrollResponse: Codable, Equatable, Sendable {
    /// The subject enrolled.
    public var subjectId: String
    /// Always `NOT_SET_UP`.
    public var state: SubjectStateName

    /// Creates a response; see the properties.
    public init(subjectId: String, state: SubjectStateName) {
        self.subjectId = subjectId
        self.state = state
    }
}

/// The contacts on file.
public struct ContactsMessage: Codable, Equatable, Sendable {
    /// E-mail addresses: each at most 254 bytes, exactly one '@', and a domain holding a '.'.
    /// None when absent.
    public var emails: [String]?
    /// Phone numbers with their types; none when absent.
    public var phones: [PhoneMessage]?
    /// Where letters go; the first is the one letters use.
    public var postalAddresses: [PostalAddressMessage]?

    /// Creates contacts; see the properties. At most 32 entries in all are accepted.
    public init(emails: [String]? = nil, phones: [PhoneMessage]? = nil, postalAddresses: [PostalAddressMessage]? = nil) {
        self.emails = emails
        self.phones = phones
        self.postalAddresses = postalAddresses
    }
}

/// A postal address, as the agency's letter system prints it.
public struct PostalAddressMessage: Codable, Equatable, Sendable {
    /// 1 to 6 lines above the postal code (the addressee, the street, the town), each 1 to 100
    /// characters.
    public var lines: [String]
    /// 2 to 12 ASCII letters, digits, spaces or '-', not starting or ending with a space
    /// (`LS1 4AB`, `90210-1234`).
    public var postalCode: String
    /// ISO 3166-1 alpha-2 (`GB`); absent for the agency's own country.
    public var country: String?

    /// Creates an address; see the properties.
    public init(lines: [String], postalCode: String, country: String? = nil) {
        self.lines = lines
        self.postalCode = postalCode
        self.country = country
    }
}

/// A phone number and its type (`CELL`, `MAIN`, `MESSAGE`, `HOME`, `WORK`, `FAX`, `TDD`, `TOLL_FREE`).
public struct PhoneMessage: Codable, Equatable, Sendable {
    /// 7 to 15 digits, an optional leading '+', and otherwise only spaces, '.', '-', '(' and ')'.
    public var number: String
    /// The kind of line; only `CELL`, `MAIN`, `MESSAGE`, `HOME` and `WORK` take texts.
    public var type: PhoneTypeName

    /// Creates a phone; see the properties.
    public init(number: String, type: PhoneTypeName) {
        self.number = number
        self.type = type
    }
}

/// `Subjects/UpdateContacts` request; the response is empty.
public struct UpdateContactsRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose contacts change.
    public var subjectId: String
    /// Replaces every contact on file; `{}` removes them all.
    public var contacts: ContactsMessage

    /// Creates a request; see the properties.
    public init(subjectId: String, contacts: ContactsMessage) {
        self.subjectId = subjectId
        self.contacts = contacts
    }
}

/// A request that names only a subject: `GetStatus`, `ApplyDefaults`.
public struct SubjectRequest: Codable, Equatable, Sendable {
    /// Required: the subject the method acts on.
    public var subjectId: String

    /// Creates a request; see the properties.
    public init(subjectId: String) {
        self.subjectId = subjectId
    }
}

/// `Subjects/GetStatus` response: states and dates, never a secret.
public struct GetStatusResponse: Codable, Equatable, Sendable {
    /// The subject asked about.
    public var subjectId: String
    /// `CLIENT` or `REPRESENTATIVE`.
    public var kind: SubjectKindName
    /// For a `REPRESENTATIVE`, the client it acts for; absent for a `CLIENT`.
    public var representsSubjectId: String?
    /// `NOT_SET_UP`, `DEFAULTS_APPLIED`, `ACTIVE` or `BLOCKED`.
    public var state: SubjectStateName
    /// Failed security checks since the last success, unblock or new details; checks still
    /// being evaluated are not counted.
    public var consecutiveFailures: Int
    /// When the subject was blocked (RFC 3339 UTC with milliseconds); present exactly when `BLOCKED`.
    public var blockedAt: String?
    /// Why, for a person, such as `3 consecutive failed security checks`; present exactly when
    /// `BLOCKED`. Other wordings may be added.
    public var blockReason: String?
    /// Whether a security PIN is set.
    public var hasPin: Bool
    /// Whether a special password is set.
    public var hasPassword: Bool
    /// When the IVR PIN was last generated (RFC 3339 UTC with milliseconds); absent when none was.
    public var ivrPinUpdatedAt: String?
    /// When the subject's record last changed (RFC 3339 UTC with milliseconds).
    public var updatedAt: String

    /// Creates a response; see the properties.
    public init(
        subjectId: String, kind: SubjectKindName, representsSubjectId: String?, state: SubjectStateName, consecutiveFailures: Int,
        blockedAt: String?, blockReason: String?, hasPin: Bool, hasPassword: Bool, ivrPinUpdatedAt: String?, updatedAt: String
    ) {
        self.subjectId = subjectId
        self.kind = kind
        self.representsSubjectId = representsSubjectId
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.blockedAt = blockedAt
        self.blockReason = blockReason
        self.hasPin = hasPin
        self.hasPassword = hasPassword
        self.ivrPinUpdatedAt = ivrPinUpdatedAt
        self.updatedAt = updatedAt
    }
}
