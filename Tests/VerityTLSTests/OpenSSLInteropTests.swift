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
import NIOTLS
import Synchronization
import Testing
import VerityTLS
import VerityTestSupport

/// Our handler against the real `openssl` command as the peer: our server with `s_client`,
/// our client with `s_server`.
@Suite("TLS against the openssl command")
struct OpenSSLInteropTests {
    let pki: TestPKI

    init() throws {
        pki = try TestPKI()
    }

    var files: DevelopmentPKI { pki.pki }

    func sClient(port: Int, role: String = "agent", _ extra: [String]) throws -> ChildProcess {
        try ChildProcess(command: "openssl", [
            "s_client", "-connect", "127.0.0.1:\(port)", "-cert", files.certificatePath(role: role),
            "-key", files.keyPath(role: role), "-CAfile", files.caCertificatePath, "-verify_return_error", "-brief",
        ] + extra)
    }

    @Test func ourServerWithOpenSSLsClient() async throws {
        let server = try await EchoServer.start(context: try pki.serverContext())
        let client = try sClient(port: server.port, role: "verifier", ["-alpn", "verity/1"])
        try await client.waitForOutput(containing: "CONNECTION ESTABLISHED")
        client.send("ping from s_client\n")
        try await client.waitForOutput(containing: "echo: ping from s_client")
        try await client.waitForOutput(containing: "Protocol version: TLSv1.3")
        try await server.waitForPeer { $0.peer == PeerIdentity(commonName: "dev-verifier", organizationalUnit: "verifier") }
        try await server.stop()
    }

    @Test func tls12IsAcceptedOnlyWithECDHEAndAEAD() async throws {
        let server = try await EchoServer.start(context: try pki.serverContext())
        let modern = try sClient(port: server.port, ["-tls1_2"])
        try await modern.waitForOutput(containing: "Protocol version: TLSv1.2")
        try await modern.waitForOutput(containing: "Ciphersuite: ECDHE-ECDSA-")
        // Suites the ECDSA server could otherwise serve (ECDHE with its key), but with CBC, not
        // AEAD: only the server's own cipher list refuses them, not OpenSSL's defaults.
        let weak = try sClient(port: server.port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256"])
        #expect(try await weak.waitForExit().status != 0)
        #expect(!weak.text.contains("CONNECTION ESTABLISHED"))
        try await server.stop()
    }

    /// OpenSSL's default security level refuses TLS 1.1 already; the server's own floor is what
    /// this checks, by its setting and by a client that offers nothing newer.
    @Test func aTLS11OnlyClientIsRefusedByTheServer() async throws {
        let context = try pki.serverContext()
        #expect(context.minimumProtocolVersion == "TLSv1.2")
        #expect(try pki.serverContext(allowTLS12: false).minimumProtocolVersion == "TLSv1.3")
        let server = try await EchoServer.start(context: context)
        let old = try sClient(port: server.port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(try await old.waitForExit().status != 0)
        try await server.waitForError { if case .handshakeFailed = $0 { true } else { false } }
        try await server.stop()
    }

    @Test func theServerRefusesTLS12WhenTurnedOff() async throws {
        let server = try await EchoServer.start(context: try pki.serverContext(allowTLS12: false))
        let client = try sClient(port: server.port, ["-tls1_2"])
        #expect(try await client.waitForExit().status != 0)
        try await server.stop()
    }

    @Test func ourClientWithOpenSSLsServer() async throws {
        let port = try freeLoopbackPort()
        let server = try ChildProcess(command: "openssl", [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", files.serverCertificatePath, "-key", files.serverKeyPath,
            "-CAfile", files.caCertificatePath, "-Verify", "1", "-verify_return_error", "-alpn", "verity/1", "-rev",
        ])
        try await server.waitForOutput(containing: "ACCEPT")
        let recorder = Recorder()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([try TLSHandler(context: try pki.clientContext(role: "admin")), recorder])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: "abc verity\n"))
        try await waitUntil { try await channel.eventLoop.submit { recorder.received.contains("ytirev cba") }.get() }
        let verified = try await channel.eventLoop.submit { recorder.verified }.get()
        #expect(verified?.applicationProtocol == "verity/1")
        #expect(verified?.peer?.commonName == "localhost")
        try await channel.close()
        // s_server answered our close_notify with its own: a clean shutdown both ways.
        #expect(try await channel.eventLoop.submit { recorder.shutdownCompleted }.get())
    }
}

/// A TLS echo server on an ephemeral loopback port: it answers each chunk with `echo: <chunk>`
/// and records what the handshakes reported.
final class EchoServer: Sendable {
    let channel: Channel
    private let peers = Mutex<[TLSPeerVerifiedEvent]>([])
    private let errors = Mutex<[TLSError]>([])

    var port: Int { channel.localAddress!.port! }

    private init(channel: Channel) {
        self.channel = channel
    }

    static func start(context: TLSContext) async throws -> EchoServer {
        let box = Mutex<EchoServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        try TLSHandler(context: context), Echo(server: box.withLock { $0 }!),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = EchoServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    func stop() async throws { try await channel.close() }

    func waitForPeer(_ matching: @escaping @Sendable (TLSPeerVerifiedEvent) -> Bool) async throws {
        try await waitUntil { self.peers.withLock { $0.contains(where: matching) } }
    }

    func waitForError(_ matching: @escaping @Sendable (TLSError) -> Bool) async throws {
        try await waitUntil { self.errors.withLock { $0.contains(where: matching) } }
    }

    private final class Echo: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let server: EchoServer

        init(server: EchoServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "echo: \(text)")), promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSPeerVerifiedEvent { server.peers.withLock { $0.append(event) } }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            if let error = error as? TLSError { server.errors.withLock { $0.append(error) } }
        }
    }
}
