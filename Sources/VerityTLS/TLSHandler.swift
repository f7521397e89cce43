//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import NIOTLS

/// Terminates TLS with the system's OpenSSL, for servers and clients alike.
///
/// Ciphertext arrives from the network as `ByteBuffer`s and plaintext goes on down the
/// pipeline; plaintext written by the pipeline leaves as ciphertext. The handler follows
/// swift-nio-ssl's `NIOSSLHandler`: writes are buffered until the handshake completes, the write
/// BIO is drained after every OpenSSL call (session tickets and alerts included), decoded
/// plaintext is delivered on `channelReadComplete`, and closing sends a close_notify and waits,
/// for a bounded time, for the peer's.
///
/// After the handshake it fires a ``TLSPeerVerifiedEvent`` and NIO's
/// `TLSUserEvent.handshakeCompleted`; after a clean close, `TLSUserEvent.shutdownCompleted`.
public final class TLSHandler: ChannelInboundHandler, ChannelOutboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Where the connection is; each state holds what only it needs, as in swift-nio-ssl: the
    /// handshake its timeout, the closing its timeout and the promises of those who closed.
    private enum State {
        case idle
        case handshaking(timeout: Scheduled<Void>)
        case active
        /// Our close_notify is sent; we wait, until `timeout`, for the peer's.
        case closing(timeout: Scheduled<Void>?, promise: EventLoopPromise<Void>?)
        case closed

        var isActive: Bool {
            if case .active = self { true } else { false }
        }
    }

    private var state = State.idle
    private let connection: SSLConnection
    private let configuration: TLSConfiguration
    private var pendingWrites: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    /// How many of `pendingWrites` have been flushed by the pipeline.
    private var flushedWrites = 0
    private var decodedPlaintext: [ByteBuffer] = []
    /// Whether the pipeline asked for a read and has not been given plaintext since.
    private var readRequested = false

    /// The verified peer, once the handshake has completed.
    public private(set) var peer: PeerIdentity?

    public init(context: TLSContext) throws {
        connection = try SSLConnection(context: context)
        configuration = context.configuration
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshake(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimeout()
        failPendingWrites(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        startHandshake(context: context)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var ciphertext = unwrapInboundIn(data)
        connection.consume(&ciphertext)
        switch state {
        case .handshaking:
            runHandshake(context: context)
        case .active, .closing:
            decodePlaintext(context: context)
        case .idle, .closed:
            // Nothing can be done with bytes before the handshake starts or after the close.
            break
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        let delivered = deliverPlaintext(context: context)
        context.fireChannelReadComplete()
        // With autoRead off, the pipeline asks for a read when it wants plaintext: a read that
        // brought only handshake bytes or part of a record must be followed by another, or the
        // connection stalls (swift-nio-ssl does the same).
        if !delivered, readRequested { context.read() }
    }

    public func read(context: ChannelHandlerContext) {
        readRequested = true
        context.read()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        cancelTimeout()
        state = .closed
        switch previous {
        case .handshaking:
            context.fireErrorCaught(TLSError.eofDuringHandshake)
        case .active:
            deliverPlaintext(context: context)
            context.fireErrorCaught(TLSError.uncleanShutdown)
        case let .closing(_, promise):
            promise?.succeed()
        case .idle, .closed:
            break
        }
        failPendingWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        case .idle, .handshaking, .active:
            pendingWrites.append((unwrapOutboundIn(data), promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        flushedWrites = pendingWrites.count
        if state.isActive { writePendingData(context: context) }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode != .input else {
            context.close(mode: mode, promise: promise)
            return
        }
        switch state {
        case .idle, .handshaking:
            cancelTimeout()
            state = .closed
            failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: .all, promise: promise)
        case .active:
            beginShutdown(context: context, promise: promise)
        case let .closing(timeout, earlier):
            if let promise {
                if let earlier { earlier.futureResult.cascade(to: promise) } else { state = .closing(timeout: timeout, promise: promise) }
            }
        case .closed:
            context.close(mode: .all, promise: promise)
        }
    }

    // MARK: Handshake

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.handshakeTimeout) {
            guard case .handshaking = self.state else { return }
            self.state = .closed
            context.fireErrorCaught(TLSError.handshakeTimedOut)
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(promise: nil)
        }
        state = .handshaking(timeout: timeout)
        // A server has nothing to say before the ClientHello, and OpenSSL's first handshake step
        // allocates its record buffers (about 33 KiB): a connection that never speaks costs only
        // its SSL object until its first bytes arrive.
        if !connection.isServer { runHandshake(context: context) }
    }

    private func runHandshake(context: ChannelHandlerContext) {
        switch connection.doHandshake() {
        case .complete:
            cancelTimeout()
            if connection.isServer, !connection.peerIsIssued(byOneOf: connection.clientIssuers) {
                return fail(context: context, with: .untrustedIssuer)
            }
            state = .active
            peer = connection.peerIdentity()
            writeCiphertext(context: context)
            let protocolName = connection.negotiatedProtocol
            context.fireUserInboundEventTriggered(
                TLSPeerVerifiedEvent(peer: peer, applicationProtocol: protocolName, protocolVersion: connection.protocolVersion)
            )
            context.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: protocolName))
            // Application data may have arrived in the same flight as the Finished message.
            decodePlaintext(context: context)
            if state.isActive { writePendingData(context: context) }
            connection.releaseIdleBuffers()
        case .incomplete:
            writeCiphertext(context: context)
        case let .failed(errors):
            fail(context: context, with: .handshakeFailed(errors))
        case .closed:
            fail(context: context, with: .eofDuringHandshake)
        }
    }

    // MARK: Reading

    /// Decodes every whole record the read BIO holds, until OpenSSL wants more bytes, into one
    /// buffer, as swift-nio-ssl's `doDecodeData` does: a peer sending tiny records can neither
    /// strand data in the read BIO nor make us allocate a buffer per record.
    private func decodePlaintext(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 16_384)
        defer {
            if buffer.readableBytes > 0, state.isActive { decodedPlaintext.append(buffer) }
        }
        while true {
            switch connection.read(into: &buffer) {
            case .complete:
                continue
            case .incomplete:
                writeCiphertext(context: context)
                guard connection.pendingCiphertextInput <= Self.maximumPendingInput else {
                    return fail(context: context, with: .connectionFailed(OpenSSLErrorStack(errors: ["more than one record is pending undecoded"])))
                }
                return
            case .closed:
                if buffer.readableBytes > 0, state.isActive { decodedPlaintext.append(buffer) }
                buffer.clear()
                peerSentCloseNotify(context: context)
                return
            case let .failed(errors):
                buffer.clear()
                fail(context: context, with: .connectionFailed(errors))
                return
            }
        }
    }

    /// What may stay in the read BIO once every whole record is decoded: less than one record
    /// (16 KiB of plaintext plus its header and expansion); more means OpenSSL stopped early.
    static let maximumPendingInput = 2 * (16_384 + 2_048)

    /// Passes decoded plaintext on; `true` when there was some.
    @discardableResult
    private func deliverPlaintext(context: ChannelHandlerContext) -> Bool {
        let buffers = decodedPlaintext
        decodedPlaintext.removeAll(keepingCapacity: true)
        if !buffers.isEmpty { readRequested = false }
        for buffer in buffers { context.fireChannelRead(wrapInboundOut(buffer)) }
        return !buffers.isEmpty
    }

    // MARK: Writing

    private func writePendingData(context: ChannelHandlerContext) {
        guard flushedWrites > 0 else { return }
        let writes = pendingWrites.prefix(flushedWrites)
        pendingWrites.removeFirst(flushedWrites)
        flushedWrites = 0
        var promises: [EventLoopPromise<Void>] = []
        // The flushed writes (a frame's length and its body, say) become one TLS record where they
        // fit, rather than one record each.
        var plaintext: ByteBuffer?
        for write in writes {
            if let promise = write.promise { promises.append(promise) }
            guard write.buffer.readableBytes > 0 else { continue }
            if plaintext == nil {
                plaintext = write.buffer
            } else {
                plaintext!.writeImmutableBuffer(write.buffer)
            }
        }
        if let plaintext, case let .failed(errors) = connection.write(plaintext) {
            promises.forEach { $0.fail(TLSError.connectionFailed(errors)) }
            fail(context: context, with: .connectionFailed(errors))
            return
        }
        let combined = promises.isEmpty ? nil : context.eventLoop.makePromise(of: Void.self)
        let written = promises
        combined?.futureResult.whenComplete { result in written.forEach { $0.completeWith(result) } }
        // We always write, even nothing, so that the promises complete in the order they were given.
        let ciphertext = connection.takeCiphertext(allocator: context.channel.allocator) ?? context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(ciphertext), promise: combined)
    }

    private func writeCiphertext(context: ChannelHandlerContext) {
        guard let ciphertext = connection.takeCiphertext(allocator: context.channel.allocator) else { return }
        context.writeAndFlush(wrapOutboundOut(ciphertext), promise: nil)
    }

    // MARK: Closing

    private func beginShutdown(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        writePendingData(context: context)
        failPendingWrites(ChannelError.outputClosed)
        state = .closing(timeout: nil, promise: promise)
        switch connection.shutdown() {
        case .complete:
            finishShutdown(context: context)
        case .incomplete, .closed:
            writeCiphertext(context: context)
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.shutdownTimeout) {
                guard case let .closing(_, promise) = self.state else { return }
                self.state = .closed
                context.fireErrorCaught(TLSError.shutdownTimedOut)
                context.close(promise: promise)
            }
            if case let .closing(_, promise) = state { state = .closing(timeout: timeout, promise: promise) }
        case let .failed(errors):
            fail(context: context, with: .connectionFailed(errors))
        }
    }

    private func peerSentCloseNotify(context: ChannelHandlerContext) {
        if state.isActive {
            // The peer closes first: we answer with our own close_notify.
            deliverPlaintext(context: context)
            state = .closing(timeout: nil, promise: nil)
        }
        _ = connection.shutdown()
        finishShutdown(context: context)
    }

    private func finishShutdown(context: ChannelHandlerContext) {
        let promise = closeAndTakePromise()
        writeCiphertext(context: context)
        context.fireUserInboundEventTriggered(TLSUserEvent.shutdownCompleted)
        context.close(promise: promise)
    }

    private func fail(context: ChannelHandlerContext, with error: TLSError) {
        let promise = closeAndTakePromise()
        // The alert, if OpenSSL made one, goes out before the connection closes.
        writeCiphertext(context: context)
        failPendingWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: promise)
    }

    /// Moves to `closed`, cancelling the state's timeout; the promise of a close in progress.
    private func closeAndTakePromise() -> EventLoopPromise<Void>? {
        cancelTimeout()
        defer { state = .closed }
        if case let .closing(_, promise) = state { return promise }
        return nil
    }

    private func cancelTimeout() {
        switch state {
        case let .handshaking(timeout): timeout.cancel()
        case let .closing(timeout, _): timeout?.cancel()
        case .idle, .active, .closed: break
        }
    }

    private func failPendingWrites(_ error: Error) {
        let writes = pendingWrites
        pendingWrites.removeAll()
        flushedWrites = 0
        writes.forEach { $0.promise?.fail(error) }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
