//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A new secret that the policy refuses, with the rule it breaks.
///
/// The reasons are the wire's `details.reason` values. The message explains the rule to the
/// person choosing the secret and never repeats the secret.
package struct PolicyViolation: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Reason: String, CaseIterable, Sendable {
        // PIN
        case length = "LENGTH"
        case notDigits = "NOT_DIGITS"
        case allZeroes = "ALL_ZEROES"
        case knownDefault = "KNOWN_DEFAULT"
        case repeatedDigit = "REPEATED_DIGIT"
        case sequence = "SEQUENCE"
        // Password
        case tooShort = "TOO_SHORT"
        case tooLong = "TOO_LONG"
        case inappropriateLanguage = "INAPPROPRIATE_LANGUAGE"
        case containsPIN = "CONTAINS_PIN"
        case tooCommon = "TOO_COMMON"
    }

    /// The request field holding the refused secret: `pin` or `password`.
    package let field: String
    package let reason: Reason
    package let message: String

    package var description: String { "\(field): \(message) (\(reason.rawValue))" }

    /// The same refusal as a ``CredentialError``, for the callers of use cases.
    package var credentialError: CredentialError {
        .invalidArgument(field: field, reason: reason.rawValue, message: message)
    }
}
