//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import VerityCore
import VerityProtocol
import VerityTLS

/// Serves the requests of one connection: parses envelopes, runs each request as its own task
/// so that requests on one connection run concurrently, and writes responses as they finish.
///
/// A protocol violation is answered once, with id 0, and the connection is closed; an error in
/// one well-formed request is answered with that request's id and the connection carries on.
///
/// Backpressure: the handler holds back the pipeline's reads while the channel is not writable
/// (its peer does not read its answers) or while `maximumInFlight` requests are unanswered,
/// counting an answer until it is written, error answers included; reads resume when an answer
/// is written or the channel becomes writable again. A client that never reads thus stops
/// being read, instead of making the server buffer answers without limit.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Waiting for the TLS handshake to name the caller.
        case awaitingCaller
        case serving(Caller)
        /// A protocol violation was answered; nothing more is read.
        case violated
    }

    private var state = State.awaitingCaller
    private var inFlight = Set<Int64>()
    /// Answers written to the pipeline whose write has not completed yet.
    private var answersInTransit = 0
    /// A read the pipeline asked for that we hold back.
    private var readHeldBack = false
    private var channelClosed = false
    /// Tells the hashing pool when this connection closes.
    private let liveness = ConnectionLiveness()
    private var draining = false
    private let executor: RequestExecutor
    private let registry: ConnectionRegistry
    private let progress: FrameProgress
    private let maximumInFlight: Int
    private let readTimeout: TimeAmount
    /// Closes the connection if the frame being received is not complete in time.
    private var stalledFrameTimer: (frame: Int, timer: Scheduled<Void>)?
    private var logger: Logger

    init(executor: RequestExecutor, registry: ConnectionRegistry, progress: FrameProgress, maximumInFlight: Int, readTimeout: TimeAmount, logger: Logger) {
        self.executor = executor
        self.registry = registry
        self.progress = progress
        self.maximumInFlight = maximumInFlight
        self.readTimeout = readTimeout
        self.logger = logger
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        watchForStalledFrame(context: context)
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelClosed = true
        liveness.close()
        if !inFlight.isEmpty { executor.connectionClosed(liveness) }
        stalledFrameTimer?.timer.cancel()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if mayRead(context: context) {
            context.read()
        } else {
            readHeldBack = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfAllowed(context: context)
        context.fireChannelWritabilityChanged()
    }

    /// Whether reading more requests keeps the connection within its budget.
    private func mayRead(context: ChannelHandlerContext) -> Bool {
        context.channel.isWritable && inFlight.count + answersInTransit < maximumInFlight
    }

    private func resumeReadingIfAllowed(context: ChannelHandlerContext) {
        guard readHeldBack, !channelClosed, mayRead(context: context) else { return }
        readHeldBack = false
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .serving(caller) = state else { return }
        let parsed: Result<RequestEnvelope, RejectedRequest>
        do {
            parsed = try RequestEnvelope.parse(unwrapInboundIn(data))
        } catch {
            violate(error, context: context)
            return
        }
        let id = parsed.requestID
        guard !inFlight.contains(id) else { return violate(.duplicateID(id), context: context) }
        // The order of checks of proto-spec/errors.md: in-flight limit, shutdown, role, envelope.
        if inFlight.count >= maximumInFlight {
            let error = RPCError(.resourceExhausted, "at most \(maximumInFlight) requests in flight per connection", details: ["reason": "TOO_MANY_IN_FLIGHT"])
            write(executor.errorFrame(id: id, error), context: context)
        } else if draining {
            write(executor.errorFrame(id: id, RPCError(.unavailable, "the server is shutting down")), context: context)
        } else if caller.role == nil {
            write(executor.errorFrame(id: id, RequestExecutor.unauthenticated(caller)), context: context)
        } else if case .success = parsed, !registry.startRequest(of: caller.name) {
            let error = RPCError(.resourceExhausted, "this caller has too many requests in flight", details: ["reason": "CALLER_LIMIT"])
            write(executor.errorFrame(id: id, error), context: context)
        } else {
            switch parsed {
            case let .failure(rejected): write(executor.errorFrame(id: id, rejected.error), context: context)
            case let .success(request) where !executor.serves(request.method):
                // Answered here, on the event loop: a flood of made-up names costs no task each.
                registry.finishRequest(of: caller.name)
                write(executor.unknownMethodFrame(request), context: context)
            case let .success(request): start(request, from: caller, role: caller.role!, context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let verified as TLSPeerVerifiedEvent:
            let caller = Caller(identity: verified.peer ?? PeerIdentity(commonName: nil, organizationalUnit: nil))
            logger[metadataKey: "caller"] = "\(LogText.sanitized(caller.name))"
            logger.debug("connection verified", metadata: ["role": "\(caller.identity.organizationalUnit ?? "-")", "tls": "\(verified.protocolVersion)"])
            guard registry.verified(context.channel, caller: caller.name) else {
                logger.warning("connection refused: this caller's connection limit is reached")
                state = .violated
                context.close(promise: nil)
                return
            }
            state = .serving(caller)
        case let idle as IdleStateHandler.IdleStateEvent:
            closeIfIdle(idle, context: context)
        case is ServerDrainingEvent:
            draining = true
            if inFlight.isEmpty { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case let violation as FrameViolation:
            violate(violation, context: context)
        case is ByteToMessageDecoderError:
            // A frame cut off by the end of the connection: dropped without an answer.
            logger.debug("connection ended inside a frame")
        case let tls as TLSError:
            logger.info("TLS connection failed", metadata: ["reason": "\(tls)"])
        default:
            logger.info("connection failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func start(_ request: RequestEnvelope, from caller: Caller, role: Role, context: ChannelHandlerContext) {
        inFlight.insert(request.id)
        let executor = self.executor
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        let receivedAt = NIODeadline.now()
        let connection = liveness
        Task {
            let body = await executor.respond(to: request, from: caller, role: role, connection: connection, receivedAt: receivedAt)
            loop.execute { handler.value.finish(request.id, of: caller, body: body, context: boundContext.value) }
        }
    }

    private func finish(_ id: Int64, of caller: Caller, body: ByteBuffer, context: ChannelHandlerContext) {
        inFlight.remove(id)
        registry.finishRequest(of: caller.name)
        guard context.channel.isActive else { return }
        write(body, context: context)
        if draining, inFlight.isEmpty { context.close(promise: nil) }
    }

    /// Writes an answer; it holds a slot of the connection's budget until the write completes.
    private func write(_ body: ByteBuffer, context: ChannelHandlerContext) {
        answersInTransit += 1
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(body)).whenComplete { _ in
            handler.value.answersInTransit -= 1
            handler.value.resumeReadingIfAllowed(context: boundContext.value)
        }
    }

    private func violate(_ violation: FrameViolation, context: ChannelHandlerContext) {
        guard case .serving = state else { return }
        state = .violated
        logger.info("protocol violation; closing the connection", metadata: ["reason": "\(violation)"])
        // The TLS handler writes this frame, then its close_notify, before the connection closes.
        write(executor.errorFrame(id: 0, violation.rpcError), context: context)
        context.close(promise: nil)
    }

    private func closeIfIdle(_ event: IdleStateHandler.IdleStateEvent, context: ChannelHandlerContext) {
        guard case .all = event, inFlight.isEmpty, !progress.hasPartialFrame else { return }
        logger.debug("closing an idle connection")
        context.close(promise: nil)
    }

    /// Once the first bytes of a frame have arrived, the whole frame must arrive within the
    /// read timeout, however slowly the rest trickles in.
    private func watchForStalledFrame(context: ChannelHandlerContext) {
        guard progress.hasPartialFrame else {
            stalledFrameTimer?.timer.cancel()
            stalledFrameTimer = nil
            return
        }
        let frame = progress.completedFrames
        guard stalledFrameTimer?.frame != frame else { return }
        stalledFrameTimer?.timer.cancel()
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: readTimeout) {
            guard self.progress.hasPartialFrame, self.progress.completedFrames == frame else { return }
            self.logger.info("closing a connection whose frame was not complete within the read timeout")
            context.close(promise: nil)
        }
        stalledFrameTimer = (frame, timer)
    }
}

/// Tells every connection that the server is shutting down: answer what is in flight, refuse
/// anything new with UNAVAILABLE, then close.
struct ServerDrainingEvent: Sendable {}

extension Result where Success == RequestEnvelope, Failure == RejectedRequest {
    var requestID: Int64 {
        switch self {
        case let .success(request): request.id
        case let .failure(rejected): rejected.id
        }
    }
}
