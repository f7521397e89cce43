//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Credentials: setting and checking security details. Secrets are JSON strings, so
// that leading zeros survive.

/// `Credentials/SetSecurityDetails` request.
public struct SetSecurityDetailsRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    public var pin: String?
    public var password: String?

    public init(subjectId: String, pin: String? = nil, password: String? = nil) {
        self.subjectId = subjectId
        self.pin = pin
        self.password = password
    }
}

/// A response holding only the subject's new state: `SetSecurityDetails`, `ApplyDefaults`, `Unblock`.
public struct StateResponse: Codable, Equatable, Sendable {
    public var state: SubjectStateName

    public init(state: SubjectStateName) {
        self.state = state
    }
}

/// `Credentials/Verify` request.
public struct VerifyRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    public var pin: String?
    public var password: String?
    /// `PHONE` (password compared as spoken) or `PORTAL` (compared exactly).
    public var channel: ChannelName

    public init(subjectId: String, pin: String? = nil, password: String? = nil, channel: ChannelName) {
        self.subjectId = subjectId
        self.pin = pin
        self.password = password
        self.channel = channel
    }
}

/// The answer to a check: `VERIFIED`, `MISMATCH`, `BLOCKED` or `NOT_SET_UP`, and the checks left.
public struct VerificationResponse: Codable, Equatable, Sendable {
    public var result: VerificationResultName
    public var attemptsRemaining: Int

    public init(result: VerificationResultName, attemptsRemaining: Int) {
        self.result = result
        self.attemptsRemaining = attemptsRemaining
    }
}

/// `Credentials/Change` request: self-service change after the current details are verified.
public struct ChangeRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    public var currentPin: String?
    public var currentPassword: String?
    public var newPin: String?
    public var newPassword: String?
    /// `PHONE` or `PORTAL` (the default); an addition to the design, see `proto-spec/CHANGES.md`.
    public var channel: ChannelName?

    public init(
        subjectId: String, currentPin: String? = nil, currentPassword: String? = nil, newPin: String? = nil,
        newPassword: String? = nil, channel: ChannelName? = nil
    ) {
        self.subjectId = subjectId
        self.currentPin = currentPin
        self.currentPassword = currentPassword
        self.newPin = newPin
        self.newPassword = newPassword
        self.channel = channel
    }
}
