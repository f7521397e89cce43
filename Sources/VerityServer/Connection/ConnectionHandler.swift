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

/// Serves the requests of one connection: feeds the channel's events to the connection's
/// ``ConnectionStateMachine`` and carries out the actions it returns. Each request runs as its
/// own task, so that requests on one connection run concurrently, and answers are written as
/// they finish.
///
/// A protocol violation is answered once, with id 0, and the connection is closed; an error in
/// one well-formed request is answered with that request's id and the connection carries on. A
/// client that never reads its answers stops being read, instead of making the server buffer
/// answers without limit (the state machine says when).
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: ConnectionStateMachine
    /// Tells the hashing pool when this connection closes.
    private let liveness = ConnectionLiveness()
    private let executor: RequestExecutor
    private let registry: ConnectionRegistry
    private let progress: FrameProgress
    private let readTimeout: TimeAmount
    /// Closes the connection if the frame being received is not complete in time.
    private var stalledFrameTimer: (frame: Int, timer: Scheduled<Void>)?
    private var logger: Logger

    init(executor: RequestExecutor, registry: ConnectionRegistry, progress: FrameProgress, maximumInFlight: Int, readTimeout: TimeAmount, logger: Logger) {
        machine = ConnectionStateMachine(maximumInFlight: maximumInFlight)
        self.executor = executor
        self.registry = registry
        self.progress = progress
        self.readTimeout = readTimeout
        self.logger = logger
    }

    // MARK: Events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let parsed = Result { () throws(FrameViolation) in try RequestEnvelope.parse(unwrapInboundIn(data)) }
        run(machine.frameReceived(parsed), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        watchForStalledFrame(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        run(machine.readRequested(), context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        run(machine.writabilityChanged(isWritable: context.channel.isWritable), context: context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        liveness.close()
        stalledFrameTimer?.timer.cancel()
        run(machine.channelClosed(), context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let verified as TLSPeerVerifiedEvent:
            let caller = Caller(identity: verified.peer ?? PeerIdentity(commonName: nil, organizationalUnit: nil))
            logger[metadataKey: "caller"] = "\(LogText.sanitized(caller.name))"
            logger.debug("connection verified", metadata: ["role": "\(caller.identity.organizationalUnit ?? "-")", "tls": "\(verified.protocolVersion)"])
            let admitted = registry.verified(context.channel, caller: caller.name)
            if !admitted { logger.warning("connection refused: this caller's connection limit is reached") }
            run(machine.callerVerified(caller, admitted: admitted), context: context)
        case let idle as IdleStateHandler.IdleStateEvent:
            guard case .all = idle else { return }
            run(machine.idle(hasPartialFrame: progress.hasPartialFrame), context: context)
        case is ChannelShouldQuiesceEvent:
            run(machine.drain(), context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case let violation as FrameViolation:
            run(machine.frameReceived(.failure(violation)), context: context)
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

    // MARK: Actions

    private func run(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext, answer body: ByteBuffer? = nil) {
        switch action {
        case .none:
            break
        case .read:
            context.read()
        case let .answer(id, error):
            write(executor.errorFrame(id: id, error), context: context)
        case let .answerUnknownMethod(request):
            // Answered here, on the event loop: a flood of made-up names costs no task each.
            write(executor.unknownMethodFrame(request), context: context)
        case let .askCallerBudget(request):
            guard case let .serving(caller) = machine.state else { return }
            let granted = registry.startRequest(of: caller.name)
            let next = machine.callerBudget(granted: granted, for: request, methodIsKnown: executor.serves(request.method))
            if granted, !next.runsARequest { registry.finishRequest(of: caller.name) }
            run(next, context: context)
        case let .run(request, caller, role):
            start(request, from: caller, role: role, context: context)
        case .write:
            if let body { write(body, context: context) }
        case .writeAndClose:
            if let body { write(body, context: context) }
            context.close(promise: nil)
        case let .answerViolationAndClose(violation):
            logger.info("protocol violation; closing the connection", metadata: ["reason": "\(violation)"])
            // The TLS handler writes this frame, then its close_notify, before the connection closes.
            write(executor.errorFrame(id: 0, violation.rpcError), context: context)
            context.close(promise: nil)
        case .close:
            context.close(promise: nil)
        case .cancelWaitingWork:
            executor.connectionClosed(liveness)
        }
    }

    private func start(_ request: RequestEnvelope, from caller: Caller, role: Role, context: ChannelHandlerContext) {
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
        registry.finishRequest(of: caller.name)
        run(machine.requestFinished(id), context: context, answer: body)
    }

    /// Writes an answer; it holds a slot of the connection's budget until the write completes.
    private func write(_ body: ByteBuffer, context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(body)).whenComplete { _ in
            handler.value.run(handler.value.machine.answerWritten(), context: boundContext.value)
        }
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

extension ConnectionStateMachine.Action {
    var runsARequest: Bool {
        if case .run = self { true } else { false }
    }
}
