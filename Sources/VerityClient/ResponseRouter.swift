//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Synchronization
import VerityProtocol
import VerityTLS

/// The calls waiting for an answer on one connection, by request id.
final class ResponseRouter: Sendable {
    private struct Call {
        var continuation: CheckedContinuation<ByteBuffer, Error>
        /// Fails the call if no answer comes in time; cancelled when one does.
        var timeout: Scheduled<Void>
    }

    private struct State {
        var waiting: [Int64: Call] = [:]
        /// Set once the connection has failed: a call registered afterwards fails at once.
        var failure: Error?
    }

    private let state = Mutex(State())

    func register(_ id: Int64, _ continuation: CheckedContinuation<ByteBuffer, Error>, timeout: Scheduled<Void>) {
        let failure = state.withLock { state -> Error? in
            if let failure = state.failure { return failure }
            state.waiting[id] = Call(continuation: continuation, timeout: timeout)
            return nil
        }
        if let failure {
            timeout.cancel()
            continuation.resume(throwing: failure)
        }
    }

    /// Whether the connection failed: no call may be made on it any more.
    var hasFailed: Bool { state.withLock { $0.failure != nil } }

    func deliver(_ body: ByteBuffer, to id: Int64) {
        take(id)?.continuation.resume(returning: body)
    }

    func fail(_ id: Int64, _ error: Error) {
        take(id)?.continuation.resume(throwing: error)
    }

    /// Fails every waiting call, and every call registered from now on.
    func failAll(_ error: Error) {
        let all = state.withLock { state in
            defer { state.waiting.removeAll() }
            if state.failure == nil { state.failure = error }
            return Array(state.waiting.values)
        }
        for call in all {
            call.timeout.cancel()
            call.continuation.resume(throwing: error)
        }
    }

    private func take(_ id: Int64) -> Call? {
        let call = state.withLock { $0.waiting.removeValue(forKey: id) }
        call?.timeout.cancel()
        return call
    }
}

/// Reads response frames and hands each to the call with its id. A frame with id 0 is the
/// server reporting a protocol violation before it closes: every waiting call fails with it.
final class ResponseRouterHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let router: ResponseRouter

    init(router: ResponseRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let body = unwrapInboundIn(data)
        guard let header = try? JSONDecoder().decode(ResponseHeader.self, from: Data(body.readableBytesView)) else {
            router.failAll(RPCError(.internalError, "the server sent a frame that is not a response"))
            context.close(promise: nil)
            return
        }
        if header.id == 0 {
            let status = header.status
            router.failAll(RPCError(StatusCode(rawValue: status.code) ?? .unknown, status.message ?? "protocol violation", details: status.details ?? [:]))
        } else {
            router.deliver(body, to: header.id)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        router.failAll(RPCError(.unavailable, "the connection to the server was lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        router.failAll(RPCError(.unavailable, "the connection to the server failed: \(error)"))
        context.close(promise: nil)
    }

    private struct ResponseHeader: Decodable {
        var id: Int64
        var status: ResponseEnvelope<EmptyMessage>.StatusBody
    }
}
