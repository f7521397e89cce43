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
    /// Required: the subject whose details are set.
    public var subjectId: String
    /// The new security PIN: exactly 7 ASCII digits; not all zeroes, not `1234567`, not one digit
    /// repeated, not a straight run up or down. At least one of `pin` and `password` is required.
    public var pin: String?
    /// The new special password: 8 to 64 characters and at least 8 as spoken; no inappropriate
    /// language, not one of the most common passwords, and not containing the `pin` given.
    public var password: String?

    /// Creates a request; see the properties.
    public init(subjectId: String, pin: String? = nil, password: String? = nil) {
        self.subjectId = subjectId
        self.pin = pin
        self.password = password
    }
}

/// A response holding only the subject's new state: `SetSecurityDetails`, `ApplyDefaults`, `Unblock`.
public struct StateResponse: Codable, Equatable, Sendable {
    /// The subject's state after the call: always `ACTIVE` after `SetSecurityDetails` and
    /// `Unblock`, `DEFAULTS_APPLIED` after `ApplyDefaults`. `RemovePassword` leaves an `ACTIVE`
    /// subject `NOT_SET_UP` when no PIN or IVR PIN is left.
    public var state: SubjectStateName

    /// Creates a response; see the properties.
    public init(state: SubjectStateName) {
        self.state = state
    }
}

/// `Credentials/Verify` request.
public struct VerifyRequest: Codable, Equatable, Sendable {
    /// Required: the subject to check.
    public var subjectId: String
    /// The PIN to check, compared exactly. At least one of `pin` and `password` is required, and
    /// neither may be empty or only whitespace.
    public var pin: String?
    /// The password to check, compared as `channel` says.
    public var password: String?
    /// `PHONE` (password compared as spoken) or `PORTAL` (compared exactly).
    public var channel: ChannelName

    /// Creates a request; see the properties.
    public init(subjectId: String, pin: String? = nil, password: String? = nil, channel: ChannelName) {
        self.subjectId = subjectId
        self.pin = pin
        self.password = password
        self.channel = channel
    }
}

/// The answer to a check: `VERIFIED`, `MISMATCH`, `BLOCKED` or `NOT_SET_UP`, and the checks left.
public struct VerificationResponse: Codable, Equatable, Sendable {
    /// What the check found.
    public var result: VerificationResultName
    /// Checks left before the subject is blocked: the full limit (3 unless configured) after
    /// `VERIFIED`, 0 with `BLOCKED` and `NOT_SET_UP`.
    public var attemptsRemaining: Int

    /// Creates a response; see the properties.
    public init(result: VerificationResultName, attemptsRemaining: Int) {
        self.result = result
        self.attemptsRemaining = attemptsRemaining
    }
}

/// `Credentials/Change` request: self-service change after the current details are verified.
public struct ChangeRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose details change; a `REPRESENTATIVE` is refused.
    public var subjectId: String
    /// The current PIN: required when the subject has one. Neither current factor may be empty
    /// or only whitespace.
    public var currentPin: String?
    /// The current password: required when the subject has one; compared as `channel` says.
    public var currentPassword: String?
    /// The new PIN, under the rules of `SetSecurityDetails`. At least one of `newPin` and
    /// `newPassword` is required.
    public var newPin: String?
    /// The new password, under the rules of `SetSecurityDetails`.
    public var newPassword: String?
    /// `PHONE` or `PORTAL` (the default); an addition to the design, see `proto-spec/CHANGES.md`.
    public var channel: ChannelName?

    /// Creates a request; see the properties.
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
