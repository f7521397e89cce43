//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore

/// One request as it arrives: id, method path, deadline, metadata and the method's message.
public struct RequestEnvelope: Sendable {
    /// The largest id a client may use: 2^53 - 1, so that every JSON library reads it exactly.
    public static let maximumID: Int64 = (1 << 53) - 1

    public var id: Int64
    public var method: String
    public var timeoutMs: Int64?
    public var metadata: [String: String]
    public var message: JSONValue

    public init(id: Int64, method: String, timeoutMs: Int64? = nil, metadata: [String: String] = [:], message: JSONValue = .object([:])) {
        self.id = id
        self.method = method
        self.timeoutMs = timeoutMs
        self.metadata = metadata
        self.message = message
    }

    /// Parses a frame's body.
    ///
    /// - Returns: the request, or the error to answer it with when the frame is well formed
    ///   enough to have an id.
    /// - Throws: a ``FrameViolation`` when it is not: the connection then closes.
    public static func parse(_ frame: ByteBuffer) throws(FrameViolation) -> Result<RequestEnvelope, RejectedRequest> {
        let bytes = frame.readableBytesView
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalidUTF8 }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { throw .invalidJSON }
        guard case let .object(fields) = json else { throw .notAnObject }
        guard case let .integer(id)? = fields["id"], (1...maximumID).contains(id) else { throw .invalidID }
        do {
            return .success(try RequestEnvelope(id: id, fields: fields))
        } catch {
            return .failure(RejectedRequest(id: id, error: error))
        }
    }

    private init(id: Int64, fields: [String: JSONValue]) throws(RPCError) {
        self.id = id
        switch fields["method"] {
        case let .string(method)?: self.method = method
        case nil: throw .invalidArgument(field: "method", reason: "REQUIRED", "method is required")
        default: throw .invalidArgument(field: "method", reason: "WRONG_TYPE", "method must be a string")
        }
        switch fields["timeoutMs"] {
        case nil: timeoutMs = nil
        case let .integer(timeout)? where timeout > 0: timeoutMs = timeout
        case .integer?: throw .invalidArgument(field: "timeoutMs", reason: "OUT_OF_RANGE", "timeoutMs must be positive")
        default: throw .invalidArgument(field: "timeoutMs", reason: "WRONG_TYPE", "timeoutMs must be an integer")
        }
        metadata = try Self.metadata(fields["metadata"])
        switch fields["message"] {
        case nil: message = .object([:])
        case let .object(body)?: message = .object(body)
        default: throw .invalidArgument(field: "message", reason: "WRONG_TYPE", "message must be an object")
        }
    }

    private static func metadata(_ value: JSONValue?) throws(RPCError) -> [String: String] {
        guard let value else { return [:] }
        guard case let .object(entries) = value else {
            throw .invalidArgument(field: "metadata", reason: "WRONG_TYPE", "metadata must be an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, entry) in entries {
            guard case let .string(text) = entry else {
                throw .invalidArgument(field: "metadata.\(key)", reason: "WRONG_TYPE", "metadata values are strings")
            }
            guard (1...64).contains(key.utf8.count), key.utf8.allSatisfy(isMetadataKeyByte) else {
                throw .invalidArgument(field: "metadata", reason: "INVALID_VALUE", "metadata keys are 1 to 64 ASCII letters, digits or '-'")
            }
            // Counted in Unicode scalars and UTF-8 bytes: one user-perceived character can carry
            // thousands of combining scalars.
            guard text.unicodeScalars.count <= 256, text.utf8.count <= 1024 else {
                throw .invalidArgument(field: "metadata.\(key)", reason: "TOO_LONG", "metadata values have at most 256 Unicode scalars and 1024 UTF-8 bytes")
            }
            guard !text.unicodeScalars.contains(where: Self.isInvisibleOrBreaking) else {
                throw .invalidArgument(
                    field: "metadata.\(key)", reason: "INVALID_VALUE",
                    "metadata values hold no control, format (bidirectional, zero-width) or line-separator characters"
                )
            }
            metadata[key] = text
        }
        return metadata
    }

    /// Characters that break a line or hide text in a log or a report: controls (Cc), formats
    /// such as bidirectional overrides (Cf), and line and paragraph separators (Zl, Zp).
    public static func isInvisibleOrBreaking(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }

    private static func isMetadataKeyByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
    }
}

/// A request whose envelope has an id but is otherwise wrong: it is answered, and the connection stays open.
public struct RejectedRequest: Error, Sendable {
    public var id: Int64
    public var error: RPCError
}
