//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A call that could not be judged: a non-OK status with a message for people and details for
/// machines.
///
/// Messages and details never hold a secret. Errors of any other type leave the server as
/// `UNKNOWN` with an empty message, so nothing internal leaks.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var details: [String: JSONValue]

    public init(_ code: StatusCode, _ message: String, details: [String: JSONValue] = [:]) {
        precondition(code != .ok, "an RPCError is never OK")
        self.code = code
        self.message = message
        self.details = details
    }

    /// INVALID_ARGUMENT naming the field and the rule it breaks.
    public static func invalidArgument(field: String, reason: String, _ message: String) -> RPCError {
        RPCError(.invalidArgument, message, details: ["field": .string(field), "reason": .string(reason)])
    }

    public var description: String { "\(code.name): \(message)" }
}

/// Domain errors that know which status they travel as.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
    public var rpcError: RPCError { self }
}
