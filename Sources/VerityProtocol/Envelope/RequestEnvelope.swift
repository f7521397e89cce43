//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore

/// One request as it arrives: id, method path, deadline and metadata, read from the frame; the
/// method's message stays in the frame until the method, and so its type, is known.
///
/// Both steps decode straight from the frame's bytes into typed values: no JSON tree is built,
/// and a well-formed request throws nothing on its way.
public struct RequestEnvelope: Equatable, Sendable {
    /// The largest id a client may use: 2^53 - 1, so that every JSON library reads it exactly.
    public static let maximumID: Int64 = (1 << 53) - 1

    /// The client's id for the request, 1 to 2^53-1, unique among its requests in flight on the
    /// connection; the response carries it back.
    public var id: Int64
    /// The method path, such as `verity.v1.Credentials/Verify`; not yet checked against
    /// ``Method`` (an unknown one is answered UNIMPLEMENTED).
    public var method: String
    /// The deadline in milliseconds, counted from when the whole frame was read; positive.
    /// Absent: the server's default.
    public var timeoutMs: Int64?
    /// Call metadata, such as `actor` (the person the system acts for) and `requestId`; keys of
    /// 1 to 64 ASCII letters, digits or '-'. Empty when absent.
    public var metadata: [String: String]
    /// The frame's body, from which ``decodeMessage(as:)`` reads the message.
    private let body: Data
    /// Whether the frame has a `message` member (an absent message is the empty message).
    private let hasMessage: Bool

    private init(head: EnvelopeHead, body: Data) {
        id = head.id
        method = head.method
        timeoutMs = head.timeoutMs
        metadata = head.metadata
        self.body = body
        hasMessage = head.hasMessage
    }

    /// Parses a frame's body.
    ///
    /// - Returns: the request, or the error to answer it with when the frame is well formed
    ///   enough to have an id.
    /// - Throws: a ``FrameViolation`` when it is not: the connection then closes.
    public static func parse(_ frame: ByteBuffer) throws(FrameViolation) -> Result<RequestEnvelope, RejectedRequest> {
        let bytes = frame.readableBytesView
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalidUTF8 }
        let body = Data(bytes)
        let head: EnvelopeHead
        do {
            head = try RequestDecoding.decoder.decode(EnvelopeHead.self, from: body)
        } catch let violation as FrameViolation {
            throw violation
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw .notAnObject
        } catch DecodingError.valueNotFound(_, let context) where context.codingPath.isEmpty {
            // A bare `null`.
            throw .notAnObject
        } catch {
            throw .invalidJSON
        }
        if let rejection = head.rejection { return .failure(RejectedRequest(id: head.id, error: rejection)) }
        return .success(RequestEnvelope(head: head, body: body))
    }

    /// Decodes the method's message, turning every decoding failure into INVALID_ARGUMENT naming
    /// the field: `REQUIRED` for a missing field, `WRONG_TYPE` for a value of the wrong JSON
    /// type, `INVALID_VALUE` for anything else (such as an unknown enum name).
    public func decodeMessage<Message: Decodable>(as type: Message.Type) throws(RPCError) -> Message {
        do {
            guard hasMessage else { return try RequestDecoding.decoder.decode(Message.self, from: Data("{}".utf8)) }
            return try RequestDecoding.decoder.decode(MessageMember<Message>.self, from: body).message
        } catch {
            throw RequestDecoding.rpcError(for: error)
        }
    }

    /// Characters that break a line or hide text in a log or a report: controls (Cc), formats
    /// such as bidirectional overrides (Cf), and line and paragraph separators (Zl, Zp).
    public static func isInvisibleOrBreaking(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}

/// A request whose envelope has an id but is otherwise wrong: it is answered, and the connection stays open.
public struct RejectedRequest: Error, Sendable {
    /// The request's id, under which the error is answered.
    public var id: Int64
    /// What is wrong with the envelope: the first fault in the order of `proto-spec/errors.md`.
    public var error: RPCError
}

/// The `message` member of a frame, decoded as the method's type.
private struct MessageMember<Message: Decodable>: Decodable {
    var message: Message
}
