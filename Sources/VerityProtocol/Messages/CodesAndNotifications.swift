//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Ivr, verity.v1.Mfa and verity.v1.Notifications.

/// `Ivr/GeneratePin` response: the only time the PIN ever leaves the service.
public struct GeneratePinResponse: Codable, Equatable, Sendable {
    /// The new IVR PIN (6 digits unless configured), such as `048151`: read it out to the person,
    /// never store it.
    public var pin: String
    /// When it was generated (RFC 3339 UTC with milliseconds).
    public var updatedAt: String

    /// Creates a response; see the properties.
    public init(pin: String, updatedAt: String) {
        self.pin = pin
        self.updatedAt = updatedAt
    }
}

/// `Ivr/VerifyPin` request; the answer is a ``VerificationResponse``.
public struct VerifyPinRequest: Codable, Equatable, Sendable {
    /// Required: the subject to check.
    public var subjectId: String
    /// Required: the IVR PIN as entered. Empty or only whitespace is `EMPTY`; anything else is
    /// compared.
    public var pin: String

    /// Creates a request; see the properties.
    public init(subjectId: String, pin: String) {
        self.subjectId = subjectId
        self.pin = pin
    }
}

/// `Mfa/IssueCode` request.
public struct IssueCodeRequest: Codable, Equatable, Sendable {
    /// Required: the subject the code is for, in any state.
    public var subjectId: String
    /// `EMAIL` or `SMS`.
    public var channel: CodeChannelName
    /// `PORTAL_REGISTRATION`, `PASSWORD_RESET`, `ACCOUNT_LINK` or `STEP_UP`.
    public var purpose: CodePurposeName
    /// One contact on file, by its exact value; the first eligible one when absent.
    public var destination: String?

    /// Creates a request; see the properties.
    public init(subjectId: String, channel: CodeChannelName, purpose: CodePurposeName, destination: String? = nil) {
        self.subjectId = subjectId
        self.channel = channel
        self.purpose = purpose
        self.destination = destination
    }
}

/// `Mfa/IssueCode` response: never the code.
public struct IssueCodeResponse: Codable, Equatable, Sendable {
    /// Opaque: pass it to `Mfa/VerifyCode`; do not parse it.
    public var challengeId: String
    /// Where the code went, in a form safe to show (`j***@example.org`, `***-***-4567`); for
    /// display only, its format is not part of the contract.
    public var maskedDestination: String
    /// When the code stops working (RFC 3339 UTC with milliseconds).
    public var expiresAt: String

    /// Creates a response; see the properties.
    public init(challengeId: String, maskedDestination: String, expiresAt: String) {
        self.challengeId = challengeId
        self.maskedDestination = maskedDestination
        self.expiresAt = expiresAt
    }
}

/// `Mfa/VerifyCode` request: the challenge, and the subject and purpose of the flow that uses it.
public struct VerifyCodeRequest: Codable, Equatable, Sendable {
    /// Required: the `challengeId` that `Mfa/IssueCode` answered.
    public var challengeId: String
    /// Required: the code as the person typed it. Empty or only whitespace is `EMPTY`; a wrong
    /// one uses up a try.
    public var code: String
    /// Required: the subject the code was issued to; another subject's challenge is NOT_FOUND.
    public var subjectId: String
    /// `PORTAL_REGISTRATION`, `PASSWORD_RESET`, `ACCOUNT_LINK` or `STEP_UP`.
    public var purpose: CodePurposeName

    /// Creates a request; see the properties.
    public init(challengeId: String, code: String, subjectId: String, purpose: CodePurposeName) {
        self.challengeId = challengeId
        self.code = code
        self.subjectId = subjectId
        self.purpose = purpose
    }
}

/// `Mfa/VerifyCode` response: `VERIFIED`, `MISMATCH`, `EXPIRED`, `EXHAUSTED` or `ALREADY_USED`,
/// with the subject and purpose the answer is about.
public struct VerifyCodeResponse: Codable, Equatable, Sendable {
    /// What the try found.
    public var result: CodeResultName
    /// Tries the challenge still accepts after `MISMATCH`; 0 with every other result.
    public var attemptsRemaining: Int
    /// The challenge's subject, equal to the request's.
    public var subjectId: String
    /// The challenge's purpose, equal to the request's.
    public var purpose: CodePurposeName

    /// Creates a response; see the properties.
    public init(result: CodeResultName, attemptsRemaining: Int, subjectId: String, purpose: CodePurposeName) {
        self.result = result
        self.attemptsRemaining = attemptsRemaining
        self.subjectId = subjectId
        self.purpose = purpose
    }
}

/// `Notifications/Lease` request.
public struct LeaseRequest: Codable, Equatable, Sendable {
    /// 1 to 100.
    public var max: Int
    /// 1 to 3600.
    public var leaseSeconds: Int
    /// Only deliveries of these channels, such as `[LETTER]` for a letter system. Absent or
    /// empty: `EMAIL` and `SMS` only, so a letter goes only to a lease that names `LETTER`.
    public var channels: [DeliveryChannelName]?

    /// Creates a request; see the properties.
    public init(max: Int, leaseSeconds: Int, channels: [DeliveryChannelName]? = nil) {
        self.max = max
        self.leaseSeconds = leaseSeconds
        self.channels = channels
    }
}

/// `Notifications/Lease` response.
public struct LeaseResponse: Codable, Equatable, Sendable {
    /// The deliveries leased, oldest first; possibly none. Never more than fit in one frame,
    /// however large `max` is.
    public var deliveries: [DeliveryMessage]

    /// Creates a response; see the properties.
    public init(deliveries: [DeliveryMessage]) {
        self.deliveries = deliveries
    }
}

/// One message for the agency's mail or SMS system to send.
public struct DeliveryMessage: Codable, Equatable, Sendable {
    /// Opaque: pass it to `Notifications/Ack`.
    public var deliveryId: String
    /// Names this lease; `Ack` presents it.
    public var leaseToken: String
    /// How it reaches the person: `EMAIL`, `SMS` or `LETTER`.
    public var channel: DeliveryChannelName
    /// An e-mail address, a phone number, or for a `LETTER` a postal address: its lines, the
    /// postal code and the country, separated by line feeds.
    public var destination: String
    /// What to send, such as `CODE_PASSWORD_RESET`, `CMSL9800` (a change request's form) or
    /// `PORTAL_REGISTRATION`; `proto-spec/notifications.md` lists every template.
    public var template: String
    /// The template's variables, such as `code`, `purpose` and `expiresAt` for a one-time code.
    public var variables: [String: String]

    /// Creates a delivery; see the properties.
    public init(deliveryId: String, leaseToken: String, channel: DeliveryChannelName, destination: String, template: String, variables: [String: String]) {
        self.deliveryId = deliveryId
        self.leaseToken = leaseToken
        self.channel = channel
        self.destination = destination
        self.template = template
        self.variables = variables
    }
}

/// `Notifications/Ack` request: `SENT` or `FAILED`; the response is empty.
public struct AckRequest: Codable, Equatable, Sendable {
    /// Required: the delivery leased.
    public var deliveryId: String
    /// The token of the lease that handed the delivery out.
    public var leaseToken: String
    /// Required: `SENT` or `FAILED`; either way the delivery is finished and its payload erased.
    public var outcome: DeliveryOutcomeName

    /// Creates a request; see the properties.
    public init(deliveryId: String, leaseToken: String, outcome: DeliveryOutcomeName) {
        self.deliveryId = deliveryId
        self.leaseToken = leaseToken
        self.outcome = outcome
    }
}
