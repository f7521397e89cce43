//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import NIOExtras

/// Splits the byte stream into frames: a 4-byte big-endian length, then that many bytes.
///
/// swift-nio-extras' `LengthFieldBasedFrameDecoder` does the splitting; in front of it we check
/// each length as soon as its 4 bytes arrive, so an oversize frame is refused before any of its
/// body is buffered (the extras decoder alone would accept lengths up to `Int32.max`). A
/// violation is thrown as a ``FrameViolation``: the connection answers it once and closes.
public struct FrameDecoder: ByteToMessageDecoder {
    /// One frame's body, without its length prefix.
    public typealias InboundOut = ByteBuffer

    /// The largest frame body accepted, in bytes (`maxFrameBytes`, 65536 by default); a larger
    /// length is FRAME_TOO_LARGE.
    public let maximumFrameBytes: Int
    private var frames = LengthFieldBasedFrameDecoder(lengthFieldBitLength: .thirtyTwoBits)
    private let progress: FrameProgress
    /// Whether the extras decoder has read a length field and waits for that frame's body.
    private var awaitingBody = false

    /// Creates a decoder for one connection.
    ///
    /// - Parameters:
    ///   - maximumFrameBytes: the largest frame body accepted.
    ///   - progress: told after every read whether a frame is half-received, for the read timeout.
    public init(maximumFrameBytes: Int, progress: FrameProgress = FrameProgress()) {
        self.maximumFrameBytes = maximumFrameBytes
        self.progress = progress
    }

    /// Passes on the next whole frame's body, checking its length before any of its body is
    /// buffered; throws a ``FrameViolation`` for an empty or oversize frame.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        defer { progress.hasPartialFrame = awaitingBody || buffer.readableBytes > 0 }
        // The extras decoder consumes a frame's length field before its body has arrived, so we
        // check a length only when the next bytes are one.
        if !awaitingBody {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
            guard length > 0 else { throw FrameViolation.emptyFrame }
            guard length <= maximumFrameBytes else { throw FrameViolation.frameTooLarge(maximum: maximumFrameBytes) }
        }
        let start = buffer.readerIndex
        let state = try frames.decode(context: context, buffer: &buffer)
        switch state {
        case .continue:
            awaitingBody = false
            progress.completedFrames += 1
        case .needMoreData: awaitingBody = awaitingBody || buffer.readerIndex != start
        }
        return state
    }

    /// Passes on the frames still whole when the connection ends, and drops a frame cut off by
    /// the end without an answer.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A frame cut off by the end of the connection is dropped without an answer.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        progress.hasPartialFrame = false
        return .needMoreData
    }
}

/// Whether a connection is in the middle of receiving a frame; shared between the decoder and
/// the connection handler that enforces the read timeout.
public final class FrameProgress {
    /// Whether some of a frame has arrived but not all of it.
    public var hasPartialFrame = false
    /// Frames completed so far; tells one half-received frame from the next.
    public var completedFrames = 0
    /// Creates the state of a connection that has received nothing yet.
    public init() {}
}

/// A frame that breaks the protocol: the connection gets one answer with id 0 and is closed.
public enum FrameViolation: Error, Equatable, Sendable {
    /// The length prefix is larger than `maximum`: RESOURCE_EXHAUSTED `FRAME_TOO_LARGE`,
    /// refused before the body is read.
    case frameTooLarge(maximum: Int)
    /// The length prefix is 0: `EMPTY_FRAME`.
    case emptyFrame
    /// The body is not valid UTF-8: `INVALID_UTF8`.
    case invalidUTF8
    /// The body is UTF-8 but not JSON: `INVALID_JSON`.
    case invalidJSON
    /// The body's JSON is not an object: `NOT_AN_OBJECT`.
    case notAnObject
    /// `id` is missing, not an integer, or outside 1 to 2^53-1: `INVALID_ID`.
    case invalidID
    /// `id` equals one still in flight on this connection: `DUPLICATE_ID`.
    case duplicateID(Int64)

    /// The answer sent before the connection closes.
    public var rpcError: RPCError {
        switch self {
        case let .frameTooLarge(maximum):
            RPCError(.resourceExhausted, "frame larger than \(maximum) bytes", details: ["reason": "FRAME_TOO_LARGE", "maxFrameBytes": .integer(Int64(maximum))])
        case .emptyFrame:
            RPCError(.invalidArgument, "a frame holds at least 1 byte", details: ["reason": "EMPTY_FRAME"])
        case .invalidUTF8:
            RPCError(.invalidArgument, "the frame is not valid UTF-8", details: ["reason": "INVALID_UTF8"])
        case .invalidJSON:
            RPCError(.invalidArgument, "the frame is not JSON", details: ["reason": "INVALID_JSON"])
        case .notAnObject:
            RPCError(.invalidArgument, "the frame's JSON is not an object", details: ["reason": "NOT_AN_OBJECT"])
        case .invalidID:
            RPCError(.invalidArgument, "id must be an integer from 1 to 2^53-1", details: ["reason": "INVALID_ID"])
        case let .duplicateID(id):
            RPCError(.invalidArgument, "id \(id) is already in flight on this connection", details: ["reason": "DUPLICATE_ID"])
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Makes a string value from a literal, as in `details: ["reason": "EMPTY_FRAME"]`.
    public init(stringLiteral value: String) { self = .string(value) }
}
