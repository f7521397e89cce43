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
        case let .alreadyExists(id):
            RPCError(.alreadyExists, "subject \(id) is already enrolled")
        case let .failedPrecondition(reason, message):
            RPCError(.failedPrecondition, message, details: ["reason": .string(reason)])
        }
    }
}
