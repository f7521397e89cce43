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
    public var subjectId: String
    /// `CLIENT` or `REPRESENTATIVE`.
    public var kind: SubjectKindName
    public var representsSubjectId: String?
    public var contacts: ContactsMessage?

    public init(subjectId: String, kind: SubjectKindName, representsSubjectId: String? = nil, contacts: ContactsMessage? = nil) {
        self.subjectId = subjectId
        self.kind = kind
        self.representsSubjectId = representsSubjectId
        self.contacts = contacts
    }
}

/// `Subjects/Enroll` response.
public struct EnrollResponse: Codable, Equatable, Sendable {
    public var subjectId: String
    public var state: SubjectStateName

    public init(subjectId: String, state: SubjectStateName) {
        self.subjectId = subjectId
        self.state = state
    }
}

/// The contacts on file.
public struct ContactsMessage: Codable, Equatable, Sendable {
    public var emails: [String]?
    public var phones: [PhoneMessage]?
    /// Where letters go; the first is the one letters use.
    public var postalAddresses: [PostalAddressMessage]?

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
    public var postalCode: String
    /// ISO 3166-1 alpha-2 (`GB`); absent for the agency's own country.
    public var country: String?

    public init(lines: [String], postalCode: String, country: String? = nil) {
        self.lines = lines
        self.postalCode = postalCode
        self.country = country
    }
}

/// A phone number and its type (`CELL`, `MAIN`, `MESSAGE`, `HOME`, `WORK`, `FAX`, `TDD`, `TOLL_FREE`).
public struct PhoneMessage: Codable, Equatable, Sendable {
    public var number: String
    public var type: PhoneTypeName

    public init(number: String, type: PhoneTypeName) {
        self.number = number
        self.type = type
    }
}

/// `Subjects/UpdateContacts` request; the response is empty.
public struct UpdateContactsRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    public var contacts: ContactsMessage

    public init(subjectId: String, contacts: ContactsMessage) {
        self.subjectId = subjectId
        self.contacts = contacts
    }
}

/// A request that names only a subject: `GetStatus`, `ApplyDefaults`.
public struct SubjectRequest: Codable, Equatable, Sendable {
    public var subjectId: String

    public init(subjectId: String) {
        self.subjectId = subjectId
    }
}

/// `Subjects/GetStatus` response: states and dates, never a secret.
public struct GetStatusResponse: Codable, Equatable, Sendable {
    public var subjectId: String
    public var kind: SubjectKindName
    public var representsSubjectId: String?
    public var state: SubjectStateName
    public var consecutiveFailures: Int
    public var blockedAt: String?
    public var blockReason: String?
    public var hasPin: Bool
    public var hasPassword: Bool
    public var ivrPinUpdatedAt: String?
    public var updatedAt: String

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
