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
/// Messages and details never hold a secret. An error of any type that is not
/// ``RPCErrorConvertible`` leaves the server as `INTERNAL` with `details.reason` `UNEXPECTED`
/// and a generic message (the log names only the error's type), so nothing internal leaks.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The status; never OK.
    public var code: StatusCode
    /// For a person: plain English, never a secret. Its wording may change, so programs switch on
    /// `code` and `details` instead.
    public var message: String
    /// For machines, such as `{"field": "pin", "reason": "ALL_ZEROES"}`; empty when there are
    /// none, and then absent on the wire.
    public var details: [String: JSONValue]

    /// Creates an error; `code` must not be OK.
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

    /// The code's name and the message, such as `NOT_FOUND: no subject case-1`.
    public var description: String { "\(code.name): \(message)" }
}

/// Domain errors that know which status they travel as.
public protocol RPCErrorConvertible: Error {
    /// The status, message and details this error is answered with.
    var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
    /// The error itself.
    public var rpcError: RPCError { self }
}
