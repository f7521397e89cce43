//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The decoder of request frames, and how its failures read on the wire.
enum RequestDecoding {
    /// One decoder for every request: `JSONDecoder` is safe to share, and making one per call costs.
    static let decoder = JSONDecoder()

    /// INVALID_ARGUMENT naming the field of the message that failed to decode: `REQUIRED` for a
    /// missing field, `WRONG_TYPE` for a value of the wrong JSON type, `INVALID_VALUE` for
    /// anything else (such as an unknown enum name).
    static func rpcError(for error: any Error) -> RPCError {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            let field = fieldPath(context.codingPath + [key])
            return .invalidArgument(field: field, reason: "REQUIRED", "\(field) is required")
        case let DecodingError.valueNotFound(_, context):
            let field = fieldPath(context.codingPath)
            return .invalidArgument(field: field, reason: "REQUIRED", "\(field) is required")
        case let DecodingError.typeMismatch(expected, context):
            let field = fieldPath(context.codingPath)
            return .invalidArgument(field: field, reason: "WRONG_TYPE", "\(field) must be \(jsonTypeName(expected))")
        case let DecodingError.dataCorrupted(context):
            let field = fieldPath(context.codingPath)
            return .invalidArgument(field: field, reason: "INVALID_VALUE", "\(field) has a value that is not allowed")
        case let error as RPCError:
            return error
        default:
            return .invalidArgument(field: "message", reason: "INVALID_VALUE", "the message could not be read")
        }
    }

    /// The field's path inside the message: `contacts.phones[0].type`.
    static func fieldPath(_ path: [CodingKey]) -> String {
        var field = ""
        // The path starts at the envelope when the message was read from the frame.
        let insideMessage = path.first?.stringValue == "message" && path.first?.intValue == nil ? Array(path.dropFirst()) : path
        for key in insideMessage {
            if let index = key.intValue {
                field += "[\(index)]"
            } else {
                field += field.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return field.isEmpty ? "message" : field
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}
