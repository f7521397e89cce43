//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Portal: registration on the self-service portal and a password reset by e-mailed
// code (procedure 001; proto-spec/portal.md).

/// `Portal/StartRegistration` request.
public typealias StartRegistrationRequest = SubjectRequest

/// `Portal/StartRegistration` response: where the registration e-mail went; never the token.
public struct StartRegistrationResponse: Codable, Equatable, Sendable {
    /// The subject whose registration started.
    public var subjectId: String
    /// The e-mail address, masked (`j***@example.org`).
    public var maskedDestination: String
    /// When the token stops working (RFC 3339 UTC with milliseconds).
    public var expiresAt: String

    /// Creates a response; see the properties.
    public init(subjectId: String, maskedDestination: String, expiresAt: String) {
        self.subjectId = subjectId
        self.maskedDestination = maskedDestination
        self.expiresAt = expiresAt
    }
}

/// `Portal/CompleteRegistration` request: the token from the e-mail, and the chosen password.
public struct CompleteRegistrationRequest: Codable, Equatable, Sendable {
    /// `ID.SECRET` as the e-mail gave it: 32 hexadecimal digits, a dot, 43 base64url characters.
    public var token: String
    /// The portal password the person chose; the password policy applies.
    public var password: String

    /// Creates a request; see the properties.
    public init(token: String, password: String) {
        self.token = token
        self.password = password
    }
}

/// `Portal/CompleteRegistration` response: whose account it is now.
public struct CompleteRegistrationResponse: Codable, Equatable, Sendable {
    /// The subject the token was made for: whose portal account this is.
    public var subjectId: String
    /// The subject's state now: `ACTIVE`.
    public var state: SubjectStateName

    /// Creates a response; see the properties.
    public init(subjectId: String, state: SubjectStateName) {
        self.subjectId = subjectId
        self.state = state
    }
}

/// `Portal/ResetPassword` request: the new password, on the grant of a verified PASSWORD_RESET code.
public struct ResetPasswordRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose password is reset; it must have a password already.
    public var subjectId: String
    /// The challenge of the PASSWORD_RESET code, verified with `Mfa/VerifyCode` minutes before.
    public var challengeId: String
    /// Required: the new password, under the password policy (errors name `newPassword`).
    public var newPassword: String

    /// Creates a request; see the properties.
    public init(subjectId: String, challengeId: String, newPassword: String) {
        self.subjectId = subjectId
        self.challengeId = challengeId
        self.newPassword = newPassword
    }
}

/// `Portal/ResetPassword` response.
public typealias ResetPasswordResponse = StateResponse
