//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A one-time code sent to a contact on file, as stored: never the code itself, only its MAC.
package struct CodeChallenge: Equatable, Sendable {
    /// The id the caller quotes to verify the code: 128 random bits, hex.
    package var id: String
    package var subjectID: SubjectID
    package var purpose: CodePurpose
    package var channel: CodeChannel
    package var maskedDestination: String
    /// HMAC-SHA256 (hex) of the normalised destination under a key of its own: codes are counted
    /// per destination without the destination being stored.
    package var destinationKey: String
    /// HMAC-SHA256 (hex) of the challenge id, purpose and code under the pepper key `pepperKeyID`.
    package var codeMAC: String
    package var pepperKeyID: String
    /// Wrong tries so far, counted before each try is evaluated.
    package var failedAttempts: Int
    package var state: CodeChallengeState
    package var createdAt: Date
    package var expiresAt: Date
    /// When the right code was given.
    package var verifiedAt: Date?
    /// When the verified code was used as the proof of one act (a password reset, an account link).
    package var redeemedAt: Date?

    package init(
        id: String, subjectID: SubjectID, purpose: CodePurpose, channel: CodeChannel, maskedDestination: String,
        destinationKey: String, codeMAC: String, pepperKeyID: String, failedAttempts: Int = 0, state: CodeChallengeState = .active,
        createdAt: Date, expiresAt: Date, verifiedAt: Date? = nil, redeemedAt: Date? = nil
    ) {
        self.id = id
        self.subjectID = subjectID
        self.purpose = purpose
        self.channel = channel
        self.maskedDestination = maskedDestination
        self.destinationKey = destinationKey
        self.codeMAC = codeMAC
        self.pepperKeyID = pepperKeyID
        self.failedAttempts = failedAttempts
        self.state = state
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.verifiedAt = verifiedAt
        self.redeemedAt = redeemedAt
    }
}

extension CodeChallenge {
    /// One try of the code, decided on the challenge as stored now: the store runs it inside the
    /// transaction that writes the result, so tries of one challenge never overlap.
    ///
    /// - Parameter matches: whether the offered code matches; asked only for a challenge that
    ///   may still be used, so a used, replaced or expired code is never compared.
    package mutating func attempt(limit: Int, now: Date, matches: () throws -> Bool) rethrows -> CodeVerificationResult {
        switch state {
        case .used: return CodeVerificationResult(.alreadyUsed, attemptsRemaining: 0)
        case .exhausted: return CodeVerificationResult(.exhausted, attemptsRemaining: 0)
        case .replaced: return CodeVerificationResult(.expired, attemptsRemaining: 0)
        case .active: break
        }
        guard expiresAt > now else { return CodeVerificationResult(.expired, attemptsRemaining: 0) }
        guard failedAttempts < limit else {
            state = .exhausted
            return CodeVerificationResult(.exhausted, attemptsRemaining: 0)
        }
        if try matches() {
            state = .used
            verifiedAt = now
            return CodeVerificationResult(.verified, attemptsRemaining: 0)
        }
        failedAttempts += 1
        if failedAttempts >= limit { state = .exhausted }
        return CodeVerificationResult(.mismatch, attemptsRemaining: limit - failedAttempts)
    }
}

extension CodeChallenge {
    /// Uses a verified code as the proof of one act, within `window` of its verification: a
    /// verified code grants exactly one act, for its own subject and purpose.
    package mutating func redeem(within window: TimeInterval, at now: Date) throws(CredentialError) {
        guard state == .used, let verifiedAt else {
            throw .failedPrecondition(reason: "CODE_NOT_VERIFIED", message: "the one-time code of this challenge has not been verified (Mfa/VerifyCode)")
        }
        guard redeemedAt == nil else {
            throw .failedPrecondition(reason: "GRANT_USED", message: "the verified code was already used for its act; issue a new code")
        }
        guard now < verifiedAt.addingTimeInterval(window) else {
            throw .failedPrecondition(reason: "GRANT_EXPIRED", message: "the verified code may be used within \(Int(window / 60)) minutes of its verification; issue a new code")
        }
        redeemedAt = now
    }
}

/// What a one-time code is for.
package enum CodePurpose: String, CaseIterable, Codable, Sendable {
    case portalRegistration = "PORTAL_REGISTRATION"
    case passwordReset = "PASSWORD_RESET"
    case accountLink = "ACCOUNT_LINK"
    case stepUp = "STEP_UP"

    /// The notification template that carries a code for this purpose.
    package var template: String { "CODE_\(rawValue)" }
}

/// How a one-time code travels.
package enum CodeChannel: String, CaseIterable, Codable, Sendable {
    case email = "EMAIL"
    case sms = "SMS"
}

/// Where a challenge stands.
package enum CodeChallengeState: String, CaseIterable, Codable, Sendable {
    case active = "ACTIVE"
    case used = "USED"
    /// A newer code for the same subject and purpose replaced this one.
    case replaced = "REPLACED"
    case exhausted = "EXHAUSTED"
}

/// The answer to `IssueCode`: never the code.
package struct IssuedCode: Equatable, Sendable {
    package var challengeID: String
    /// Whom and what the code is for: a check must name both.
    package var subjectID: SubjectID
    package var purpose: CodePurpose
    package var maskedDestination: String
    package var expiresAt: Date
}

/// The answer to one try of a code.
package struct CodeVerificationResult: Equatable, Sendable {
    package enum Outcome: String, CaseIterable, Sendable {
        case verified = "VERIFIED"
        case mismatch = "MISMATCH"
        case expired = "EXPIRED"
        case exhausted = "EXHAUSTED"
        case alreadyUsed = "ALREADY_USED"
    }

    package var outcome: Outcome
    package var attemptsRemaining: Int

    package init(_ outcome: Outcome, attemptsRemaining: Int) {
        self.outcome = outcome
        self.attemptsRemaining = attemptsRemaining
    }
}
