//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

extension CredentialError: RPCErrorConvertible {
    /// The status each domain error travels as.
    public var rpcError: RPCError {
        switch self {
        case let .invalidArgument(field, reason, message):
            .invalidArgument(field: field, reason: reason, message)
        case let .notFound(id):
            RPCError(.notFound, "no subject \(id)", details: ["field": "subjectId"])
        case let .missing(field, message):
            RPCError(.notFound, message, details: ["field": .string(field)])
        case let .rateLimited(retryAfter):
            RPCError(
                .resourceExhausted, "too many codes were sent lately; the next is allowed at \(Timestamp.string(from: retryAfter))",
                details: ["reason": "RATE_LIMITED", "retryAfter": .string(Timestamp.string(from: retryAfter))]
            )
        case let .destinationRateLimited(retryAfter):
            RPCError(
                .resourceExhausted, "too many codes went to this destination lately; the next is allowed at \(Timestamp.string(from: retryAfter))",
                details: ["reason": "DESTINATION_RATE_LIMITED", "retryAfter": .string(Timestamp.string(from: retryAfter))]
            )
        case let .alreadyExists(id):
            RPCError(.alreadyExists, "subject \(id) is already enrolled")
        case let .failedPrecondition(reason, message):
            RPCError(.failedPrecondition, message, details: ["reason": .string(reason)])
        case let .aborted(reason, message):
            RPCError(.aborted, message, details: ["reason": .string(reason)])
        case let .internalFailure(reason, message):
            RPCError(.internalError, message, details: ["reason": .string(reason)])
        case let .unavailable(reason, message):
            RPCError(.unavailable, message, details: ["reason": .string(reason)])
        }
    }
}

extension StoreFailure: RPCErrorConvertible {
    /// A busy or unreachable store is UNAVAILABLE (retry); any other failure INTERNAL. None names
    /// the engine's message.
    public var rpcError: RPCError {
        switch kind {
        case .busy: RPCError(.unavailable, "the store is busy; this call's last write was not made; retry", details: ["reason": "STORE_BUSY"])
        case .unavailable:
            RPCError(.unavailable, "the database cannot be reached; this call's write was made whole or not at all; retry", details: ["reason": "STORE_UNAVAILABLE"])
        case .failed: RPCError(.internalError, "the store failed; the operators were alerted", details: ["reason": "STORE_ERROR"])
        }
    }
}
