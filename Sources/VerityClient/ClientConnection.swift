//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import NIOPosix
import VerityProtocol
import VerityTLS
import VerityTransport

/// One TLS connection to the server, with the calls waiting on it.
final class ClientConnection: Sendable {
    private let channel: Channel
    private let router: ResponseRouter

    private init(channel: Channel, router: ResponseRouter) {
        self.channel = channel
        self.router = router
    }

    /// Whether new calls may use it: open, and not failed (a protocol violation is reported
    /// before the server closes, while the channel may still look active).
    var isUsable: Bool { channel.isActive && !router.hasFailed }

    static func connect(_ configuration: VerityClient.Configuration) async throws -> ClientConnection {
        let tls: TLSContext
        do {
            tls = try TLSContext(.client(
                serverName: configuration.serverName, certificateChainPath: configuration.certificatePath,
                privateKeyPath: configuration.privateKeyPath, serverCAPath: configuration.trustRootsPath
            ))
        } catch {
            throw RPCError(.failedPrecondition, "the client's certificates cannot be used: \(error)")
        }
        let router = ResponseRouter()
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addTransportHandlers(tls: tls, limits: .client)
                        try channel.pipeline.syncOperations.addHandler(ResponseRouterHandler(router: router))
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
            return ClientConnection(channel: channel, router: router)
        } catch {
            throw RPCError(.unavailable, "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Sends a request frame and waits for the response with its id.
    func send(_ frame: ByteBuffer, id: Int64, localTimeout: Duration) async throws -> ByteBuffer {
        try await withCheckedThrowingContinuation { continuation in
            let timeout = channel.eventLoop.scheduleTask(in: TimeAmount(localTimeout)) {
                self.router.fail(id, RPCError(.deadlineExceeded, "no answer from the server in time"))
            }
            router.register(id, continuation, timeout: timeout)
            channel.writeAndFlush(frame).whenFailure { error in
                self.router.fail(id, RPCError(.unavailable, "the request could not be sent: \(error)"))
            }
        }
    }

    func close() async {
        try? await channel.close()
    }
}
