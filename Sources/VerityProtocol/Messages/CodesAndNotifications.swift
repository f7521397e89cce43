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
    public var pin: String
    public var updatedAt: String

    public init(pin: String, updatedAt: String) {
        self.pin = pin
        self.updatedAt = updatedAt
    }
}

/// `Ivr/VerifyPin` request; the answer is a ``VerificationResponse``.
public struct VerifyPinRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    public var pin: String

    public init(subjectId: String, pin: String) {
        self.subjectId = subjectId
        self.pin = pin
    }
}

/// `Mfa/IssueCode` request.
public struct IssueCodeRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    /// `EMAIL` or `SMS`.
    public var channel: CodeChannelName
    /// `PORTAL_REGISTRATION`, `PASSWORD_RESET`, `ACCOUNT_LINK` or `STEP_UP`.
    public var purpose: CodePurposeName
    /// One contact on file, by its exact value; the first eligible one when absent.
    public var destination: String?

    public init(subjectId: String, channel: CodeChannelName, purpose: CodePurposeName, destination: String? = nil) {
        self.subjectId = subjectId
        self.channel = channel
        self.purpose = purpose
        self.destination = destination
    }
}

/// `Mfa/IssueCode` response: never the code.
public struct IssueCodeResponse: Codable, Equatable, Sendable {
    public var challengeId: String
    public var maskedDestination: String
    public var expiresAt: String

    public init(challengeId: String, maskedDestination: String, expiresAt: String) {
        self.challengeId = challengeId
        self.maskedDestination = maskedDestination
        self.expiresAt = expiresAt
    }
}

/// `Mfa/VerifyCode` request: the challenge, and the subject and purpose of the flow that uses it.
public struct VerifyCodeRequest: Codable, Equatable, Sendable {
    public var challengeId: String
    public var code: String
    public var subjectId: String
    /// `PORTAL_REGISTRATION`, `PASSWORD_RESET`, `ACCOUNT_LINK` or `STEP_UP`.
    public var purpose: CodePurposeName

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
    public var result: CodeResultName
    public var attemptsRemaining: Int
    public var subjectId: String
    public var purpose: CodePurposeName

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
    /// Only deliveries of these channels, such as `[LETTER]` for a letter system; every channel
    /// when absent or empty.
    public var channels: [DeliveryChannelName]?

    public init(max: Int, leaseSeconds: Int, channels: [DeliveryChannelName]? = nil) {
        self.max = max
        self.leaseSeconds = leaseSeconds
        self.channels = channels
    }
}

/// `Notifications/Lease` response.
public struct LeaseResponse: Codable, Equatable, Sendable {
    public var deliveries: [DeliveryMessage]

    public init(deliveries: [DeliveryMessage]) {
        self.deliveries = deliveries
    }
}

/// One message for the agency's mail or SMS system to send.
public struct DeliveryMessage: Codable, Equatable, Sendable {
    public var deliveryId: String
    /// Names this lease; `Ack` presents it.
    public var leaseToken: String
    public var channel: DeliveryChannelName
    /// An e-mail address, a phone number, or for a `LETTER` a postal address: its lines, the
    /// postal code and the country, separated by line feeds.
    public var destination: String
    public var template: String
    public var variables: [String: String]

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
    public var deliveryId: String
    /// The token of the lease that handed the delivery out.
    public var leaseToken: String
    public var outcome: DeliveryOutcomeName

    public init(deliveryId: String, leaseToken: String, outcome: DeliveryOutcomeName) {
        self.deliveryId = deliveryId
        self.leaseToken = leaseToken
        self.outcome = outcome
    }
}
