//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import NIOEmbedded
import NIOTLS
import VerityTLS
import VerityTestSupport

/// A development PKI in a temporary directory, plus a second, untrusted one.
final class TestPKI: Sendable {
    static let roles = ["verifier", "ivr", "agent", "notifier", "admin", "auditor"]
    let directory: TemporaryDirectory
    let pki: DevelopmentPKI
    let foreign: DevelopmentPKI

    init() throws {
        directory = try TemporaryDirectory("verity-pki")
        pki = try DevelopmentPKI.ensure(in: directory.url.appendingPathComponent("pki"), roles: Self.roles)
        foreign = try DevelopmentPKI.ensure(in: directory.url.appendingPathComponent("foreign"), roles: ["agent"])
    }

    func serverContext(allowTLS12: Bool = true, handshakeTimeout: TimeAmount = .seconds(10)) throws -> TLSContext {
        var configuration = TLSConfiguration.server(
            certificateChainPath: pki.serverCertificatePath, privateKeyPath: pki.serverKeyPath, clientCAPath: pki.caCertificatePath
        )
        configuration.allowTLS12 = allowTLS12
        configuration.handshakeTimeout = handshakeTimeout
        return try TLSContext(configuration)
    }

    func clientContext(
        role: String? = "agent",
        from issuer: DevelopmentPKI? = nil,
        serverName: String = "localhost",
        alpn: [String] = [TLSConfiguration.alpnProtocol]
    ) throws -> TLSContext {
        let issuer = issuer ?? pki
        var configuration = TLSConfiguration.client(
            serverName: serverName,
            certificateChainPath: role.map { issuer.certificatePath(role: $0) },
            privateKeyPath: role.map { issuer.keyPath(role: $0) },
            serverCAPath: pki.caCertificatePath
        )
        configuration.applicationProtocols = alpn
        return try TLSContext(configuration)
    }
}

/// Records what reaches the end of a pipeline: plaintext, user events, errors.
final class Recorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var received = ""
    /// How many plaintext buffers arrived.
    var reads = 0
    var events: [String] = []
    var verified: TLSPeerVerifiedEvent?
    var errors: [Error] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        reads += 1
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSPeerVerifiedEvent { verified = event }
        if let event = event as? TLSUserEvent { events.append("\(event)") }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        errors.append(error)
    }

    var handshakeCompleted: Bool { events.contains { $0.hasPrefix("handshakeCompleted") } }
    var shutdownCompleted: Bool { events.contains("shutdownCompleted") }
}

/// Two embedded channels wired back to back: what one writes, the other reads.
struct ChannelPair {
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientRecorder = Recorder()
    let serverRecorder = Recorder()

    init(server: TLSContext, client: TLSContext) throws {
        self.server = EmbeddedChannel()
        self.client = EmbeddedChannel()
        try self.server.pipeline.syncOperations.addHandlers([try TLSHandler(context: server), serverRecorder])
        try self.client.pipeline.syncOperations.addHandlers([try TLSHandler(context: client), clientRecorder])
    }

    func connect() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 7443)
        try server.connect(to: address).wait()
        try client.connect(to: address).wait()
        try interact()
    }

    /// Moves bytes between the two until neither has anything left to send.
    func interact() throws {
        for _ in 0..<100 {
            var moved = false
            while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                moved = true
                if server.isActive { try server.writeInbound(bytes) }
            }
            while let bytes = try server.readOutbound(as: ByteBuffer.self) {
                moved = true
                if client.isActive { try client.writeInbound(bytes) }
            }
            if !moved { return }
        }
    }

    /// Everything `channel` has written so far, as one buffer, without delivering it.
    func takeOutbound(of channel: EmbeddedChannel) throws -> ByteBuffer {
        var combined = ByteBuffer()
        while var bytes = try channel.readOutbound(as: ByteBuffer.self) { combined.writeBuffer(&bytes) }
        return combined
    }

    func send(_ text: String, from channel: EmbeddedChannel) throws {
        try channel.writeAndFlush(ByteBuffer(string: text)).wait()
        try interact()
    }
}
