//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A value of one of the IDL's enums, as it travels: its UPPER_SNAKE name.
///
/// The types that conform are open, as grpc-swift's `Status.Code` is: a name this build does not
/// know (sent by a newer server) still decodes and can be passed on, while the known names read
/// like enum cases (`switch result { case .verified: ... default: ... }`) and a misspelt one
/// does not compile. A server checks the names it receives against what it knows and answers
/// INVALID_ARGUMENT `INVALID_VALUE` for any other.
public protocol WireName: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral
where RawValue == String {
    init(rawValue: String)
}

extension WireName {
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public init(from decoder: Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}

/// `SubjectKind`: a client, or someone acting for one.
public struct SubjectKindName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let client: Self = "CLIENT"
    public static let representative: Self = "REPRESENTATIVE"
}

/// `SubjectState`: where a subject stands with their security details.
public struct SubjectStateName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let notSetUp: Self = "NOT_SET_UP"
    public static let defaultsApplied: Self = "DEFAULTS_APPLIED"
    public static let active: Self = "ACTIVE"
    public static let blocked: Self = "BLOCKED"
}

/// `PhoneType`: the kind of phone line a case system records.
public struct PhoneTypeName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let cell: Self = "CELL"
    public static let main: Self = "MAIN"
    public static let message: Self = "MESSAGE"
    public static let home: Self = "HOME"
    public static let work: Self = "WORK"
    public static let fax: Self = "FAX"
    public static let tdd: Self = "TDD"
    public static let tollFree: Self = "TOLL_FREE"
}

/// `Channel`: where a security check happens, which decides how a password is compared.
public struct ChannelName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Spoken on the phone: the password is compared as spoken.
    public static let phone: Self = "PHONE"
    /// Typed on the portal: the password is compared exactly.
    public static let portal: Self = "PORTAL"
}

/// `CodeChannel`: how a one-time code reaches a person.
public struct CodeChannelName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let email: Self = "EMAIL"
    public static let sms: Self = "SMS"
}

/// `DeliveryChannel`: how a notification in the outbox reaches a person.
public struct DeliveryChannelName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let email: Self = "EMAIL"
    public static let sms: Self = "SMS"
    /// A printed letter; the destination is a postal address.
    public static let letter: Self = "LETTER"
}

/// `CodePurpose`: what a one-time code is for; a code verifies only for its own.
public struct CodePurposeName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let portalRegistration: Self = "PORTAL_REGISTRATION"
    public static let passwordReset: Self = "PASSWORD_RESET"
    public static let accountLink: Self = "ACCOUNT_LINK"
    public static let stepUp: Self = "STEP_UP"
}

/// `DeliveryOutcome`: what happened to a leased notification.
public struct DeliveryOutcomeName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let sent: Self = "SENT"
    public static let failed: Self = "FAILED"
}

/// `ServingStatus`: whether the service can serve requests.
public struct ServingStatusName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let serving: Self = "SERVING"
    public static let notServing: Self = "NOT_SERVING"
}

/// `VerificationResponse.VerificationResult`: the outcome of a security check.
public struct VerificationResultName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let verified: Self = "VERIFIED"
    public static let mismatch: Self = "MISMATCH"
    public static let blocked: Self = "BLOCKED"
    public static let notSetUp: Self = "NOT_SET_UP"
}

/// `VerifyCodeResponse.CodeResult`: the outcome of a try of a one-time code.
public struct CodeResultName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let verified: Self = "VERIFIED"
    public static let mismatch: Self = "MISMATCH"
    public static let expired: Self = "EXPIRED"
    public static let exhausted: Self = "EXHAUSTED"
    public static let alreadyUsed: Self = "ALREADY_USED"
}

/// `FactKind`: a kind of fact on file for the fallback identity check.
public struct FactKindName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let identityDocument: Self = "IDENTITY_DOCUMENT"
    public static let placeOfBirth: Self = "PLACE_OF_BIRTH"
    public static let children: Self = "CHILDREN"
}

/// `IdentityDocument.Kind`: what kind of government-issued document.
public struct IdentityDocumentKindName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let driversLicense: Self = "DRIVERS_LICENSE"
    public static let stateID: Self = "STATE_ID"
    public static let passport: Self = "PASSPORT"
    public static let other: Self = "OTHER"
}

/// `RecoveryRequest.Status`: where a recovery request stands.
public struct RecoveryStatusName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let awaitingDocument: Self = "AWAITING_DOCUMENT"
    public static let documentConfirmed: Self = "DOCUMENT_CONFIRMED"
    public static let expired: Self = "EXPIRED"
}

/// `ChangeRequest.Source`: how a change of security details was reported.
public struct ChangeRequestSourceName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let phone: Self = "PHONE"
    public static let letter: Self = "LETTER"
    /// On the self-service site: no form is sent, and the request is due within 24 hours.
    public static let selfService: Self = "SELF_SERVICE"
}

/// `ChangeRequest.Reason`: why the security details are to change.
public struct ChangeRequestReasonName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let blockedAfterFailedChecks: Self = "BLOCKED_AFTER_FAILED_CHECKS"
    public static let clientRequest: Self = "CLIENT_REQUEST"
}

/// `ChangeRequest.Status`: where a change request stands.
public struct ChangeRequestStatusName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Raised on the self-service site; waiting for a caseworker.
    public static let open: Self = "OPEN"
    /// The form came back; a caseworker assesses it.
    public static let inProgress: Self = "IN_PROGRESS"
    /// The form or the reminder went out; waiting for the person.
    public static let waiting: Self = "WAITING"
    public static let accepted: Self = "ACCEPTED"
    public static let declined: Self = "DECLINED"
    /// Ended without a decision.
    public static let closed: Self = "CLOSED"
}

/// `ChangeRequest.Confirmation`: how an accepted change was confirmed to the person.
public struct ConfirmationName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let sms: Self = "SMS"
    public static let letter: Self = "LETTER"
    /// No agreed text and no postal address, but an e-mail address on file.
    public static let email: Self = "EMAIL"
    /// No contact on file could carry it.
    public static let none: Self = "NONE"
}

/// `LinkRequest.Status`: where a request in a county's queue stands.
public struct LinkRequestStatusName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let pending: Self = "PENDING"
    /// Linked, by this request or by one of the same submission in another county.
    public static let processed: Self = "PROCESSED"
    public static let rejected: Self = "REJECTED"
}

/// `LinkRequest.Origin`: how a request came to be queued.
public struct LinkRequestOriginName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The portal submitted it and it could not be linked automatically.
    public static let portal: Self = "PORTAL"
    /// A caseworker unlinked the account.
    public static let unlink: Self = "UNLINK"
}

/// `LinkRequest.Hold`: why a request was not linked automatically.
public struct LinkHoldName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let dateOfBirthMismatch: Self = "DATE_OF_BIRTH_MISMATCH"
    public static let zipCodeMismatch: Self = "ZIP_CODE_MISMATCH"
    public static let caseMismatch: Self = "CASE_MISMATCH"
    public static let childrenServices: Self = "CHILDREN_SERVICES"
    public static let customerPrivacy: Self = "CUSTOMER_PRIVACY"
    public static let unlinked: Self = "UNLINKED"
}

/// `PortalLink.Method`: how an account was linked.
public struct LinkMethodName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let automatic: Self = "AUTOMATIC"
    public static let manual: Self = "MANUAL"
}

/// `SubmitLinkResponse.Outcome`: what a submission did.
public struct LinkOutcomeName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let linked: Self = "LINKED"
    public static let queued: Self = "QUEUED"
}
