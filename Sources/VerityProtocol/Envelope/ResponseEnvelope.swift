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
    public struct StatusBody: Codable, Equatable, Sendable {
        public var code: Int
        public var name: String
        public var message: String?
        public var details: [String: JSONValue]?
    }

    public var id: Int64
    public var status: StatusBody
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
