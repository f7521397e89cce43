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
    /// Wraps any name, known to this build or not; it never fails.
    init(rawValue: String)
}

extension WireName {
    /// Makes a name from a string literal, as the known names are declared.
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    /// Decodes any JSON string, known name or not; only a value that is not a string throws.
    public init(from decoder: Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the name as a JSON string.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The name as it travels, such as `VERIFIED`.
    public var description: String { rawValue }
}

/// `SubjectKind`: a client, or someone acting for one.
public struct SubjectKindName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The person the agency's case is about.
    public static let client: Self = "CLIENT"
    /// Someone acting for an enrolled client, with security details of their own.
    public static let representative: Self = "REPRESENTATIVE"
}

/// `SubjectState`: where a subject stands with their security details.
public struct SubjectStateName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Enrolled, with no security details yet: nothing can be verified.
    public static let notSetUp: Self = "NOT_SET_UP"
    /// The person could not be reached or refused: nothing verifies until real details are set.
    public static let defaultsApplied: Self = "DEFAULTS_APPLIED"
    /// Security details are set, and checks are evaluated.
    public static let active: Self = "ACTIVE"
    /// Too many consecutive failed checks: every check answers `BLOCKED` until `Admin/Unblock`.
    public static let blocked: Self = "BLOCKED"
}

/// `PhoneType`: the kind of phone line a case system records.
public struct PhoneTypeName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A mobile phone; takes texts.
    public static let cell: Self = "CELL"
    /// The main number; takes texts.
    public static let main: Self = "MAIN"
    /// A number for messages; takes texts.
    public static let message: Self = "MESSAGE"
    /// A home phone; takes texts.
    public static let home: Self = "HOME"
    /// A work phone; takes texts.
    public static let work: Self = "WORK"
    /// A fax line; never sent a text.
    public static let fax: Self = "FAX"
    /// A telecommunications device for the deaf; never sent a text.
    public static let tdd: Self = "TDD"
    /// A toll-free number; never sent a text.
    public static let tollFree: Self = "TOLL_FREE"
}

/// `Channel`: where a security check happens, which decides how a password is compared.
public struct ChannelName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Spoken on the phone: the password is compared as spoken.
    public static let phone: Self = "PHONE"
    /// Typed on the portal: the password is compared exactly.
    public static let portal: Self = "PORTAL"
}

/// `CodeChannel`: how a one-time code reaches a person.
public struct CodeChannelName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// To an e-mail address on file.
    public static let email: Self = "EMAIL"
    /// A text, to a phone on file of type `CELL`, `MAIN`, `MESSAGE`, `HOME` or `WORK`.
    public static let sms: Self = "SMS"
}

/// `DeliveryChannel`: how a notification in the outbox reaches a person.
public struct DeliveryChannelName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// An e-mail; the destination is an e-mail address.
    public static let email: Self = "EMAIL"
    /// A text; the destination is a phone number that takes texts.
    public static let sms: Self = "SMS"
    /// A printed letter; the destination is a postal address.
    public static let letter: Self = "LETTER"
}

/// `CodePurpose`: what a one-time code is for; a code verifies only for its own.
public struct CodePurposeName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Registering on the self-service portal.
    public static let portalRegistration: Self = "PORTAL_REGISTRATION"
    /// Resetting a forgotten password (`Portal/ResetPassword`).
    public static let passwordReset: Self = "PASSWORD_RESET"
    /// Linking a portal account to the person (`Links/Submit`).
    public static let accountLink: Self = "ACCOUNT_LINK"
    /// A further proof of the person, before a step the caller chooses to guard.
    public static let stepUp: Self = "STEP_UP"
}

/// `DeliveryOutcome`: what happened to a leased notification.
public struct DeliveryOutcomeName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Handed on for delivery (for a letter: posted).
    public static let sent: Self = "SENT"
    /// Could not be sent; Verity does not retry it.
    public static let failed: Self = "FAILED"
}

/// `ServingStatus`: whether the service can serve requests.
public struct ServingStatusName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The service can serve requests.
    public static let serving: Self = "SERVING"
    /// Running, but unable to serve other methods (for example, its store is unusable).
    public static let notServing: Self = "NOT_SERVING"
}

/// `VerificationResponse.VerificationResult`: the outcome of a security check.
public struct VerificationResultName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Every factor given matched; earlier failures are cleared.
    public static let verified: Self = "VERIFIED"
    /// At least one factor did not match; the attempt counted towards the lock.
    public static let mismatch: Self = "MISMATCH"
    /// The subject is `BLOCKED` (no secret was evaluated), or was blocked while this check ran.
    public static let blocked: Self = "BLOCKED"
    /// Nothing to check against: no details set, defaults applied, or the factor was never set.
    public static let notSetUp: Self = "NOT_SET_UP"
}

/// `VerifyCodeResponse.CodeResult`: the outcome of a try of a one-time code.
public struct CodeResultName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The code matched, and the challenge is now used.
    public static let verified: Self = "VERIFIED"
    /// The code did not match; a try was used up.
    public static let mismatch: Self = "MISMATCH"
    /// The code's time ran out, or a newer code for the same subject and purpose replaced it.
    public static let expired: Self = "EXPIRED"
    /// No tries were left.
    public static let exhausted: Self = "EXHAUSTED"
    /// The code was already used successfully, possibly by an answer at the same time.
    public static let alreadyUsed: Self = "ALREADY_USED"
}

/// `FactKind`: a kind of fact on file for the fallback identity check.
public struct FactKindName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A government-issued identity document: its kind, number and issuer.
    public static let identityDocument: Self = "IDENTITY_DOCUMENT"
    /// The city and the state or country of birth.
    public static let placeOfBirth: Self = "PLACE_OF_BIRTH"
    /// Every child's full name and date of birth, compared as one list.
    public static let children: Self = "CHILDREN"
}

/// `IdentityDocument.Kind`: what kind of government-issued document.
public struct IdentityDocumentKindName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A driver's license.
    public static let driversLicense: Self = "DRIVERS_LICENSE"
    /// A state identity card.
    public static let stateID: Self = "STATE_ID"
    /// A passport.
    public static let passport: Self = "PASSPORT"
    /// Any other government-issued document.
    public static let other: Self = "OTHER"
}

/// `RecoveryRequest.Status`: where a recovery request stands.
public struct RecoveryStatusName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Waiting for the person's copy of an identity document.
    public static let awaitingDocument: Self = "AWAITING_DOCUMENT"
    /// A caseworker confirmed the document.
    public static let documentConfirmed: Self = "DOCUMENT_CONFIRMED"
    /// Nothing was confirmed by `expiresAt`: `EXPIRED` as soon as that time passes.
    public static let expired: Self = "EXPIRED"
}

/// `ChangeRequest.Source`: how a change of security details was reported.
public struct ChangeRequestSourceName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Reported by phone; the form goes by letter.
    public static let phone: Self = "PHONE"
    /// Reported by letter; the form goes by letter.
    public static let letter: Self = "LETTER"
    /// On the self-service site: no form is sent, and the request is due within 24 hours.
    public static let selfService: Self = "SELF_SERVICE"
}

/// `ChangeRequest.Reason`: why the security details are to change.
public struct ChangeRequestReasonName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The person was blocked by failed security checks; the subject must be `BLOCKED`.
    public static let blockedAfterFailedChecks: Self = "BLOCKED_AFTER_FAILED_CHECKS"
    /// The person asked; the subject is `ACTIVE` or `BLOCKED`.
    public static let clientRequest: Self = "CLIENT_REQUEST"
}

/// `ChangeRequest.Status`: where a change request stands.
public struct ChangeRequestStatusName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Raised on the self-service site; waiting for a caseworker.
    public static let open: Self = "OPEN"
    /// The form came back; a caseworker assesses it.
    public static let inProgress: Self = "IN_PROGRESS"
    /// The form or the reminder went out; waiting for the person.
    public static let waiting: Self = "WAITING"
    /// Accepted: the new details were set. Final.
    public static let accepted: Self = "ACCEPTED"
    /// Declined by a caseworker, or by the scheduler when nothing came back. Final.
    public static let declined: Self = "DECLINED"
    /// Ended without a decision.
    public static let closed: Self = "CLOSED"
}

/// `ChangeRequest.Confirmation`: how an accepted change was confirmed to the person.
public struct ConfirmationName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The text `SECURITY_DETAILS_UPDATED`, to the first phone on file that takes texts.
    public static let sms: Self = "SMS"
    /// Letter CMSL9802, to the first postal address on file.
    public static let letter: Self = "LETTER"
    /// No agreed text and no postal address, but an e-mail address on file.
    public static let email: Self = "EMAIL"
    /// No contact on file could carry it.
    public static let none: Self = "NONE"
}

/// `LinkRequest.Status`: where a request in a county's queue stands.
public struct LinkRequestStatusName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// In the county's queue, waiting for a caseworker.
    public static let pending: Self = "PENDING"
    /// Linked, by this request or by one of the same submission in another county.
    public static let processed: Self = "PROCESSED"
    /// Rejected by a caseworker of this county.
    public static let rejected: Self = "REJECTED"
}

/// `LinkRequest.Origin`: how a request came to be queued.
public struct LinkRequestOriginName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The portal submitted it and it could not be linked automatically.
    public static let portal: Self = "PORTAL"
    /// A caseworker unlinked the account.
    public static let unlink: Self = "UNLINK"
}

/// `LinkRequest.Hold`: why a request was not linked automatically.
public struct LinkHoldName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The date of birth typed is not the one on file.
    public static let dateOfBirthMismatch: Self = "DATE_OF_BIRTH_MISMATCH"
    /// The first five digits of the ZIP code typed are not those on file.
    public static let zipCodeMismatch: Self = "ZIP_CODE_MISMATCH"
    /// The county and case number typed are not a case on file where the person is the
    /// primary applicant and not permanently out of the home.
    public static let caseMismatch: Self = "CASE_MISMATCH"
    /// A case on file has an active Children Services program (a county policy).
    public static let childrenServices: Self = "CHILDREN_SERVICES"
    /// The person has an active customer privacy record (a county policy).
    public static let customerPrivacy: Self = "CUSTOMER_PRIVACY"
    /// Queued by `Links/Unlink`; always first when present.
    public static let unlinked: Self = "UNLINKED"
}

/// `PortalLink.Method`: how an account was linked.
public struct LinkMethodName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// By `Links/Submit`: every fact matched and no county policy held it.
    public static let automatic: Self = "AUTOMATIC"
    /// By `Links/Link`: a caseworker processed a request.
    public static let manual: Self = "MANUAL"
}

/// `SubmitLinkResponse.Outcome`: what a submission did.
public struct LinkOutcomeName: WireName {
    /// The UPPER_SNAKE name as it travels.
    public let rawValue: String
    /// Wraps a name as received, whether or not this build knows it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The account is linked now, method `AUTOMATIC`.
    public static let linked: Self = "LINKED"
    /// Nothing is linked: a pending request waits in each county that receives the person's requests.
    public static let queued: Self = "QUEUED"
}
