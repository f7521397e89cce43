//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

extension JSONValue {
    /// Decodes a method's message, turning every decoding failure into INVALID_ARGUMENT naming
    /// the field: `REQUIRED` for a missing field, `WRONG_TYPE` for a value of the wrong JSON
    /// type, `INVALID_VALUE` for anything else (such as an unknown enum name).
    public func decode<Message: Decodable>(as type: Message.Type) throws(RPCError) -> Message {
        do {
            let data = try JSONEncoder().encode(self)
            return try JSONDecoder().decode(Message.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let field = Self.fieldPath(context.codingPath + [key])
            throw .invalidArgument(field: field, reason: "REQUIRED", "\(field) is required")
        } catch let DecodingError.valueNotFound(_, context) {
            let field = Self.fieldPath(context.codingPath)
            throw .invalidArgument(field: field, reason: "REQUIRED", "\(field) is required")
        } catch let DecodingError.typeMismatch(expected, context) {
            let field = Self.fieldPath(context.codingPath)
            throw .invalidArgument(field: field, reason: "WRONG_TYPE", "\(field) must be \(Self.jsonTypeName(expected))")
        } catch let DecodingError.dataCorrupted(context) {
            let field = Self.fieldPath(context.codingPath)
            throw .invalidArgument(field: field, reason: "INVALID_VALUE", "\(field) has a value that is not allowed")
        } catch {
            throw .invalidArgument(field: "message", reason: "INVALID_VALUE", "the message could not be read")
        }
    }

    static func fieldPath(_ path: [CodingKey]) -> String {
        var field = ""
        for key in path {
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
