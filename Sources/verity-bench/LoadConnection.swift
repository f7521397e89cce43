//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization
import VerityProtocol
import VerityTLS
import VerityTransport

/// Counts answers and their latencies across every load connection of a scenario.
final class LoadRecorder: Sendable {
    private struct State {
        var completed = 0
        var failed = 0
        /// Latencies of the answers that were OK.
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
        /// Latencies of the answers that were not.
        var failedHistogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
        var recording = false
        /// The status of the first answer that was not OK, to say why a phase failed.
        var firstFailure: String?
    }

    private let state = Mutex(State())

    func start() { state.withLock { $0 = State(); $0.recording = true } }
    func stop() { state.withLock { $0.recording = false } }

    func record(latencyNanoseconds: UInt64, ok: Bool, status: @autoclosure () -> String = "") {
        state.withLock { state in
            guard state.recording else { return }
            if ok {
                state.completed += 1
                _ = state.histogram.record(latencyNanoseconds)
            } else {
                state.failed += 1
                _ = state.failedHistogram.record(latencyNanoseconds)
                if state.firstFailure == nil { state.firstFailure = status() }
            }
        }
    }

    var firstFailure: String? { state.withLock { $0.firstFailure } }

    var completed: Int { state.withLock { $0.completed } }
    var failed: Int { state.withLock { $0.failed } }
    var histogram: Histogram<UInt64> { state.withLock { $0.histogram } }
    var failedHistogram: Histogram<UInt64> { state.withLock { $0.failedHistogram } }
}

/// One mutual-TLS connection that keeps `depth` requests in flight, sending the next as soon as
/// an answer arrives (closed loop), or that sends when told to (open loop).
final class LoadConnection: Sendable {
    let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    /// Connects and completes the TLS handshake.
    static func open(port: Int, tls: TLSContext, request: @escaping @Sendable (Int64) -> ByteBuffer, depth: Int, recorder: LoadRecorder) async throws -> LoadConnection {
        let ready = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addTransportHandlers(tls: tls, limits: .client)
                    try channel.pipeline.syncOperations.addHandler(PipeliningHandler(request: request, depth: depth, recorder: recorder, ready: ready))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await ready.futureResult.get()
        return LoadConnection(channel: channel)
    }

    /// Starts the closed loop: `depth` requests now, and one more per answer until stopped.
    func startClosedLoop() {
        channel.pipeline.fireUserInboundEventTriggered(PipeliningHandler.Command.start)
    }

    /// Sends one request, its latency counted from `scheduled` (open loop, without coordinated omission).
    func send(scheduledAt scheduled: NIODeadline) {
        channel.pipeline.fireUserInboundEventTriggered(PipeliningHandler.Command.sendOne(scheduled))
    }

    func stop() {
        channel.pipeline.fireUserInboundEventTriggered(PipeliningHandler.Command.stop)
    }

    /// Waits until every request sent has been answered, so that no work is left queued in the
    /// server when the next phase starts.
    func drain(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await channel.pipeline.handler(type: PipeliningHandler.self).map({ $0.outstanding }).get() > 0 {
            guard ContinuousClock.now < deadline else { throw BenchError("answers still missing after \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func close() async {
        try? await channel.close()
    }
}

final class PipeliningHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Command {
        case start
        case sendOne(NIODeadline)
        case stop
    }

    private let request: @Sendable (Int64) -> ByteBuffer
    private let depth: Int
    private let recorder: LoadRecorder
    private let ready: EventLoopPromise<Void>
    private var nextID: Int64 = 1
    private var sentAt: [Int64: NIODeadline] = [:]
    private var closedLoop = false

    /// Requests sent and not yet answered.
    var outstanding: Int { sentAt.count }

    init(request: @escaping @Sendable (Int64) -> ByteBuffer, depth: Int, recorder: LoadRecorder, ready: EventLoopPromise<Void>) {
        self.request = request
        self.depth = depth
        self.recorder = recorder
        self.ready = ready
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is TLSPeerVerifiedEvent:
            ready.succeed()
        case let command as Command:
            switch command {
            case .start:
                closedLoop = true
                for _ in 0..<depth { send(context: context, at: .now()) }
            case let .sendOne(scheduled):
                send(context: context, at: scheduled)
            case .stop:
                closedLoop = false
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let body = unwrapInboundIn(data)
        guard let id = Self.id(in: body), let started = sentAt.removeValue(forKey: id) else { return }
        // An echo carries no status; a Verity answer is OK only with code 0.
        let bytes = body.readableBytesView
        let ok = bytes.firstRange(of: Array(#""code":0"#.utf8)) != nil || bytes.firstRange(of: Array(#""status""#.utf8)) == nil
        recorder.record(
            latencyNanoseconds: UInt64(max(0, (NIODeadline.now() - started).nanoseconds)), ok: ok,
            status: String(decoding: bytes.firstRange(of: Array(#""status""#.utf8)).map { bytes[$0.lowerBound...].prefix(200) } ?? bytes.prefix(0), as: UTF8.self)
        )
        guard closedLoop else { return }
        // A refusal that says when to retry is retried then, as a well-behaved client does.
        if !ok, let retryAfterMs = Self.integer(after: #""retryAfterMs":"#, in: body) {
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(retryAfterMs)) {
                if self.closedLoop { self.send(context: context, at: .now()) }
            }
        } else {
            send(context: context, at: .now())
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        ready.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(ChannelError.ioOnClosedChannel)
    }

    private func send(context: ChannelHandlerContext, at scheduled: NIODeadline) {
        let id = nextID
        nextID += 1
        sentAt[id] = scheduled
        context.writeAndFlush(wrapOutboundOut(request(id)), promise: nil)
    }

    /// The value of the first `"id":` in a response, found without parsing the JSON.
    static func id(in body: ByteBuffer) -> Int64? {
        integer(after: #""id":"#, in: body)
    }

    /// The integer that follows the first `key` in a response, found without parsing the JSON.
    static func integer(after key: String, in body: ByteBuffer) -> Int64? {
        let bytes = body.readableBytesView
        guard let key = bytes.firstRange(of: Array(key.utf8)) else { return nil }
        var value: Int64 = 0
        var index = key.upperBound
        while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return value
    }
}
