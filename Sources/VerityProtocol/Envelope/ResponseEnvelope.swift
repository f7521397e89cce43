//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore

/// One response: the request's id, a final status, and the method's message when OK.
public struct ResponseEnvelope<Message: Encodable & Sendable>: Encodable, Sendable {
    /// The call's final status, as the envelope's `status` member.
    public struct StatusBody: Codable, Equatable, Sendable {
        /// The ``StatusCode`` number, a JSON number; 0 for OK.
        public var code: Int
        /// The code's name, such as `PERMISSION_DENIED`.
        public var name: String
        /// For a person; never a secret. Absent with OK.
        public var message: String?
        /// For machines, such as `{"field": "pin", "reason": "ALL_ZEROES"}`; absent when none.
        public var details: [String: JSONValue]?
    }

    /// The id of the request answered, or 0 for a connection-level error frame.
    public var id: Int64
    /// The outcome of the call.
    public var status: StatusBody
    /// The method's response message: present exactly when the status is OK.
    public var message: Message?

    /// An OK response carrying `message`.
    public static func ok(id: Int64, _ message: Message) -> ResponseEnvelope {
        ResponseEnvelope(id: id, status: StatusBody(code: 0, name: StatusCode.ok.name), message: message)
    }

    /// Encodes the envelope as a frame body.
    public func encode(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        ByteBuffer(bytes: try ResponseEncoding.encoder.encode(self))
    }
}

extension ResponseEnvelope where Message == EmptyMessage {
    /// An error response: no message, only the status.
    public static func error(id: Int64, _ error: RPCError) -> ResponseEnvelope {
        ResponseEnvelope(
            id: id,
            status: StatusBody(
                code: error.code.rawValue, name: error.code.name, message: error.message,
                details: error.details.isEmpty ? nil : error.details
            ),
            message: nil
        )
    }
}

/// The message of methods that return nothing: `{}` on the wire.
public struct EmptyMessage: Codable, Equatable, Sendable {
    /// Creates the empty message.
    public init() {}
}

enum ResponseEncoding {
    /// One encoder for every response: `JSONEncoder` is safe to share, and making one per
    /// response cost a tenth of a cheap call.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
}
