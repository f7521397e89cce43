//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Any JSON value, for envelopes and details whose shape is checked by hand.
public enum JSONValue: Equatable, Sendable, Codable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A whole number that fits in 64 bits.
    case integer(Int64)
    /// Any other number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object; its members' order is not kept.
    case object([String: JSONValue])

    /// Decodes any JSON value, trying `null`, a Boolean, an integer, a number, a string and an
    /// array in that order, then an object.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value as the JSON it stands for.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// The string, or nil when the value is not a string.
    public var stringValue: String? {
        if case let .string(value) = self { value } else { nil }
    }

    /// The integer, or nil when the value is not an integer.
    public var integerValue: Int64? {
        if case let .integer(value) = self { value } else { nil }
    }

    /// The object's members, or nil when the value is not an object.
    public var objectValue: [String: JSONValue]? {
        if case let .object(value) = self { value } else { nil }
    }
}
