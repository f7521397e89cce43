//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import NIOEmbedded
import Testing
import VerityTLS

@Suite("The OpenSSL TLS handler, in memory")
struct TLSHandlerTests {
    let pki: TestPKI

    init() throws {
        pki = try TestPKI()
    }

    @Test func mutualTLSHandsTheVerifiedCallerToThePipeline() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(role: "ivr"))
        try pair.connect()
        #expect(pair.serverRecorder.handshakeCompleted && pair.clientRecorder.handshakeCompleted)
        let verified = try #require(pair.serverRecorder.verified)
        #expect(verified.peer == PeerIdentity(commonName: "dev-ivr", organizationalUnit: "ivr"))
        #expect(verified.applicationProtocol == "verity/1")
        #expect(verified.protocolVersion == "TLSv1.3")
        #expect(pair.clientRecorder.verified?.peer?.commonName == "localhost")
    }

    @Test func dataFlowsBothWaysAndWritesBeforeTheHandshakeAreKept() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        let early = pair.client.writeAndFlush(ByteBuffer(string: "written before the handshake"))
        try pair.connect()
        try early.wait()
        #expect(pair.serverRecorder.received == "written before the handshake")
        try pair.send(" and after", from: pair.client)
        try pair.send("reply", from: pair.server)
        #expect(pair.serverRecorder.received == "written before the handshake and after")
        #expect(pair.clientRecorder.received == "reply")
        let large = String(repeating: "x", count: 100_000)
        try pair.send(large, from: pair.server)
        #expect(pair.clientRecorder.received == "reply" + large)
    }

    @Test func closeSendsAndAwaitsCloseNotifyBothWays() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        let closed = pair.client.close()
        try pair.interact()
        try closed.wait()
        #expect(pair.clientRecorder.shutdownCompleted)
        #expect(pair.serverRecorder.shutdownCompleted)
        #expect(!pair.server.isActive && !pair.client.isActive)
        #expect(pair.serverRecorder.errors.isEmpty && pair.clientRecorder.errors.isEmpty)
    }

    @Test func aClientWithoutACertificateIsRefused() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(role: nil))
        try pair.connect()
        #expect(!pair.serverRecorder.handshakeCompleted)
        #expect(pair.serverRecorder.errors.contains { if case .handshakeFailed = $0 as? TLSError { true } else { false } })
        #expect(!pair.server.isActive)
    }

    @Test func aCertificateFromAnotherCAIsRefused() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(from: pki.foreign))
        try pair.connect()
        #expect(!pair.serverRecorder.handshakeCompleted)
        #expect(!pair.server.isActive)
        #expect(pair.clientRecorder.errors.contains { $0 is TLSError })
    }

    @Test func aClientOfferingOnlyAnotherProtocolIsRefused() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(alpn: ["h2"]))
        try pair.connect()
        #expect(!pair.serverRecorder.handshakeCompleted)
        #expect(!pair.client.isActive)
    }

    @Test func aClientOfferingNoALPNIsAccepted() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(alpn: []))
        try pair.connect()
        #expect(pair.serverRecorder.handshakeCompleted)
        #expect(pair.serverRecorder.verified?.applicationProtocol == nil)
    }

    @Test(arguments: ["example.org", "10.0.0.1"])
    func theClientChecksTheServerName(_ name: String) throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(serverName: name))
        try pair.connect()
        #expect(!pair.clientRecorder.handshakeCompleted)
        #expect(pair.clientRecorder.errors.contains { if case .handshakeFailed = $0 as? TLSError { true } else { false } })
    }

    @Test(arguments: ["127.0.0.1", "::1", "localhost"])
    func theServerCertificateNamesEveryLocalAddress(_ name: String) throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext(serverName: name))
        try pair.connect()
        #expect(pair.clientRecorder.handshakeCompleted)
    }

    @Test func plaintextOnTheTLSPortFailsTheHandshake() throws {
        let server = EmbeddedChannel()
        let recorder = Recorder()
        try server.pipeline.syncOperations.addHandlers([try TLSHandler(context: try pki.serverContext()), recorder])
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 7443)).wait()
        try server.writeInbound(ByteBuffer(string: "\u{0}\u{0}\u{0}\u{2}{}"))
        #expect(recorder.errors.contains { if case .handshakeFailed = $0 as? TLSError { true } else { false } })
        #expect(!server.isActive)
    }

    @Test func aStalledHandshakeTimesOut() throws {
        let server = EmbeddedChannel()
        let recorder = Recorder()
        try server.pipeline.syncOperations.addHandlers([try TLSHandler(context: try pki.serverContext(handshakeTimeout: .seconds(2))), recorder])
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 7443)).wait()
        server.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(server.isActive)
        server.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(recorder.errors.contains { ($0 as? TLSError) == .handshakeTimedOut })
        #expect(!server.isActive)
    }

    @Test func writesAfterCloseFail() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        let closed = pair.client.close()
        let late = pair.client.writeAndFlush(ByteBuffer(string: "too late"))
        try pair.interact()
        try closed.wait()
        #expect(throws: Error.self) { try late.wait() }
    }

    // MARK: The read path, after swift-nio-ssl's NIOSSLHandler tests

    /// A peer that sends one-byte records: every record in a read is decoded, into one buffer,
    /// and nothing is stranded in the read BIO waiting for more bytes.
    @Test func manyTinyRecordsInOneReadAreAllDecoded() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        for _ in 0..<1_500 { try pair.client.writeAndFlush(ByteBuffer(string: "x")).wait() }
        try pair.server.writeInbound(try pair.takeOutbound(of: pair.client))
        #expect(pair.serverRecorder.received.count == 1_500)
        #expect(pair.serverRecorder.reads == 1)
    }

    @Test func twoRecordsInOneBufferAreBothDelivered() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        try pair.client.writeAndFlush(ByteBuffer(string: "first ")).wait()
        try pair.client.writeAndFlush(ByteBuffer(string: "second")).wait()
        try pair.server.writeInbound(try pair.takeOutbound(of: pair.client))
        #expect(pair.serverRecorder.received == "first second")
    }

    @Test func gibberishAfterTheCloseNotifyIsIgnored() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        try pair.client.writeAndFlush(ByteBuffer(string: "last words")).wait()
        _ = pair.client.close()
        var bytes = try pair.takeOutbound(of: pair.client)
        bytes.writeString("\u{16}\u{03}\u{03} this is not TLS at all")
        try pair.server.writeInbound(bytes)
        #expect(pair.serverRecorder.received == "last words")
        #expect(pair.serverRecorder.shutdownCompleted)
        #expect(!pair.server.isActive)
    }

    @Test func pendingWritesFailWhenTheConnectionCloses() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        let unflushed = pair.server.write(ByteBuffer(string: "never flushed"))
        let closed = pair.server.close()
        try pair.interact()
        #expect(throws: (any Error).self) { try unflushed.wait() }
        try closed.wait()
        #expect(pair.clientRecorder.received.isEmpty)
    }

    @Test func closingTwiceCompletesBothPromises() throws {
        let pair = try ChannelPair(server: try pki.serverContext(), client: try pki.clientContext())
        try pair.connect()
        let first = pair.server.close()
        let second = pair.server.close()
        try pair.interact()
        try first.wait()
        _ = try? second.wait()
        #expect(!pair.server.isActive)
        let third = pair.server.close()
        #expect(throws: (any Error).self) { try third.wait() }
    }
}
