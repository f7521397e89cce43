//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import NIOExtras
import VerityProtocol
import VerityTLS

/// The transport every Verity connection runs on, server and client alike: TLS, then frames of
/// a 4-byte big-endian length and a body (`proto-spec/framing.md`).
///
/// Built here and only here, so that the server, the Swift client and the benchmark's load and
/// echo connections cannot drift apart in how they frame.
extension ChannelPipeline.SynchronousOperations {
    /// Adds TLS and the frame codec; the caller adds its own handler after them, which then reads
    /// whole frame bodies and writes frame bodies.
    ///
    /// - Parameters:
    ///   - limits: the largest frame body accepted from the peer.
    ///   - progress: tells the application handler whether a frame is half received.
    ///   - idleTimeout: when set, an `IdleStateHandler` sits between TLS and the frames.
    public func addTransportHandlers(
        tls: TLSContext,
        limits: FrameLimits,
        progress: FrameProgress = FrameProgress(),
        idleTimeout: TimeAmount? = nil
    ) throws {
        try addHandler(try TLSHandler(context: tls))
        if let idleTimeout { try addHandler(IdleStateHandler(allTimeout: idleTimeout)) }
        try addHandlers([
            LengthFieldPrepender(lengthFieldBitLength: .thirtyTwoBits),
            ByteToMessageHandler(FrameDecoder(maximumFrameBytes: limits.maximumFrameBytes, progress: progress)),
        ])
    }
}

/// How large a frame body a side of a connection accepts.
public struct FrameLimits: Sendable {
    public var maximumFrameBytes: Int

    public init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// What a server accepts from a client unless configured: 64 KiB (`proto-spec/framing.md`).
    public static let serverDefault = FrameLimits(maximumFrameBytes: 65_536)

    /// What a client accepts from a server: a server's own limit is configurable, and a client
    /// must read any answer a server may send, so it allows far more than any default.
    public static let client = FrameLimits(maximumFrameBytes: 16 << 20)
}
