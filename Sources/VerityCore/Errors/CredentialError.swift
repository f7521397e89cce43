//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Why a use case could not be carried out at all.
///
/// A check that does not match is not an error: it is a ``VerificationResult``. These cases are
/// for calls that could not be judged, and each maps to one canonical gRPC status code. Their
/// messages are written for a person and never hold a secret.
package enum CredentialError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field is missing or malformed, or a new secret breaks the policy (`reason` names the rule).
    case invalidArgument(field: String, reason: String, message: String)
    /// No subject has this id.
    case notFound(SubjectID)
    /// Nothing that `field` names exists, such as an unknown challenge or delivery id.
    case missing(field: String, message: String)
    /// A subject with this id is already enrolled.
    case alreadyExists(SubjectID)
    /// The subject is not in a state that allows the call (`reason` names the state or rule).
    case failedPrecondition(reason: String, message: String)
    /// Too many one-time codes were issued to the subject lately; the next is allowed at `retryAfter`.
    case rateLimited(retryAfter: Date)
    /// Too many one-time codes went to this destination lately, whoever they were for.
    case destinationRateLimited(retryAfter: Date)
    /// The call ran into concurrent work on the same subject and did nothing; it may be retried.
    case aborted(reason: String, message: String)
    /// The service could not complete the call for a reason of its own, such as a stored value it
    /// cannot read; whatever the call counted stays counted.
    case internalFailure(reason: String, message: String)
    /// The store could not take the call now; nothing was done, and it may be retried.
    case unavailable(reason: String, message: String)

    package var description: String {
        switch self {
        case let .invalidArgument(field, reason, message): "\(field): \(message) (\(reason))"
        case let .notFound(id): "no subject \(id)"
        case let .missing(field, message): "\(field): \(message)"
        case let .alreadyExists(id): "subject \(id) is already enrolled"
        case let .failedPrecondition(reason, message): "\(message) (\(reason))"
        case let .rateLimited(retryAfter): "too many codes lately; the next is allowed at \(Timestamp.string(from: retryAfter))"
        case let .destinationRateLimited(retryAfter):
            "too many codes to this destination lately; the next is allowed at \(Timestamp.string(from: retryAfter))"
        case let .aborted(reason, message), let .internalFailure(reason, message), let .unavailable(reason, message): "\(message) (\(reason))"
        }
    }

    /// Every remaining attempt is held by checks of the same subject still being evaluated.
    package static let checksInProgress = CredentialError.aborted(
        reason: "CHECKS_IN_PROGRESS",
        message: "other checks of this subject are still being evaluated and hold its remaining attempts; retry when they finish"
    )

    /// The check outlived the longest a check may take, and its reservation was counted as lost.
    package static let reservationLost = CredentialError.aborted(
        reason: "RESERVATION_LOST",
        message: "the check took too long and was counted as a failed check; retry"
    )

    /// New details were set while the check compared the old ones: nothing was verified or counted.
    package static let credentialsChanged = CredentialError.aborted(
        reason: "CREDENTIALS_CHANGED",
        message: "the security details were replaced while this check ran; nothing was verified or counted; check the new ones"
    )

    /// A stored credential could not be evaluated (unknown pepper key, malformed or out-of-bounds hash).
    package static let credentialIntegrity = CredentialError.internalFailure(
        reason: "CREDENTIAL_INTEGRITY",
        message: "a stored credential could not be evaluated; the attempt was counted and the operators were alerted"
    )

    /// The cryptographic library failed while evaluating a credential.
    package static let cryptoFailure = CredentialError.internalFailure(
        reason: "CRYPTO_FAILURE",
        message: "the cryptographic library failed; the attempt was counted and the operators were alerted"
    )
}
