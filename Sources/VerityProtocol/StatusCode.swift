//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// gRPC's canonical status codes, which Verity uses on the wire with the same numbers and names.
public enum StatusCode: Int, CaseIterable, Codable, Sendable {
    /// The call was carried out; a check that did not match is OK too, with its result.
    case ok = 0
    /// Never returned by v1: a request cannot be cancelled.
    case cancelled = 1
    /// Never returned by v1: a fault the server did not classify is `INTERNAL` `UNEXPECTED`. The
    /// client uses it for a status code it does not know; whether the work was done is unknown.
    case unknown = 2
    /// A malformed frame, envelope or field, or a value a policy refuses; nothing changed.
    case invalidArgument = 3
    /// The deadline passed before the work started; nothing changed.
    case deadlineExceeded = 4
    /// An id in the request names nothing; `details.field` names the field.
    case notFound = 5
    /// `Subjects/Enroll` of a subject id already enrolled.
    case alreadyExists = 6
    /// The caller's role may not call the method; the denial is audited.
    case permissionDenied = 7
    /// A limit was reached; `details.reason` says which.
    case resourceExhausted = 8
    /// The subject or record is not in a state that allows the call; `details.reason` says why.
    case failedPrecondition = 9
    /// A security check could not be judged because of other checks of its subject.
    case aborted = 10
    /// Never returned by v1: a number out of range is `INVALID_ARGUMENT` `OUT_OF_RANGE`.
    case outOfRange = 11
    /// `method` names no v1 method (or `AdvanceClock`, on a server without `--dev-clock`).
    case unimplemented = 12
    /// A fault of the server's own, such as a store or crypto failure; the outcome is unknown.
    case internalError = 13
    /// The server is shutting down, or the store is busy (`details.reason` `STORE_BUSY`) or
    /// cannot be reached (`STORE_UNAVAILABLE`).
    case unavailable = 14
    /// Never returned by v1: a broken audit chain is reported as `ok: false`.
    case dataLoss = 15
    /// The client certificate names no known role; every request on the connection gets it.
    case unauthenticated = 16

    /// The code's name on the wire, such as `INVALID_ARGUMENT`.
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}
