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
public enum CredentialError: Error, Equatable, Sendable, CustomStringConvertible {
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

    public var description: String {
        switch self {
        case let .invalidArgument(field, reason, message): "\(field): \(message) (\(reason))"
        case let .notFound(id): "no subject \(id)"
        case let .missing(field, message): "\(field): \(message)"
        case let .alreadyExists(id): "subject \(id) is already enrolled"
        case let .failedPrecondition(reason, message): "\(message) (\(reason))"
        case let .rateLimited(retryAfter): "too many codes lately; the next is allowed at \(Timestamp.string(from: retryAfter))"
        }
    }
}
