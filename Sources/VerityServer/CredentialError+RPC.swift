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
        case let .alreadyExists(id):
            RPCError(.alreadyExists, "subject \(id) is already enrolled")
        case let .failedPrecondition(reason, message):
            RPCError(.failedPrecondition, message, details: ["reason": .string(reason)])
        }
    }
}
