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
import Synchronization
import VerityTLS
import VerityTestSupport

/// A raw client connection over our TLS handler: it sends any bytes, and reads back frames as
/// JSON objects, so tests can say exactly what goes on the wire.
final class TestConnection: Sendable {
    private let channel: Channel
    private let inbox: Inbox

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    static func open(port: Int, pki: DevelopmentPKI, role: String?, issuer: DevelopmentPKI?, alpn: [String]) async throws -> TestConnection {
        let issuer = issuer ?? pki
        var configuration = TLSConfiguration.client(
            serverName: "localhost", certificateChainPath: role.map { issuer.certificatePath(role: $0) },
            privateKeyPath: role.map { issuer.keyPath(role: $0) }, serverCAPath: pki.caCertificatePath
        )
        configuration.applicationProtocols = alpn
        let context = try TLSContext(configuration)
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([try TLSHandler(context: context), InboxHandler(inbox: inbox)])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestConnection(channel: channel, inbox: inbox)
    }

    /// Whether the handshake completed (the server accepted our certificate and ALPN).
    func waitForHandshake(timeout: Duration = .seconds(10)) async throws -> Bool {
        try await waitUntil(timeout: timeout) { self.inbox.handshakeDone || self.inbox.closed }
        return inbox.handshakeDone && !inbox.closed
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Sends one frame holding `json` exactly as given.
    func send(json: String) async throws {
        try await send(bytes: Self.frame(Array(json.utf8)))
    }

    static func frame(_ body: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }

    /// A request's JSON; it names a caseworker in `metadata.actor` unless `extra` gives metadata of its own.
    static func request(id: Int64, method: String, message: [String: Any]? = [:], extra: [String: Any] = [:]) -> String {
        var envelope: [String: Any] = ["id": id, "method": method, "metadata": ["actor": "agent:4711"]]
        if let message { envelope["message"] = message }
        envelope.merge(extra) { $1 }
        let data = try! JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Sends a request and waits for the response with its id.
    func call(
        _ method: String, _ message: [String: Any] = [:], id: Int64? = nil, extra: [String: Any] = [:], timeout: Duration = .seconds(20)
    ) async throws -> [String: Any] {
        let id = id ?? inbox.nextID()
        try await send(json: Self.request(id: id, method: method, message: message, extra: extra))
        return try await response(id: id, timeout: timeout)
    }

    /// The response with this id if it has arrived, without waiting.
    func arrivedResponse(id: Int64) -> [String: Any]? { inbox.response(id: id) }

    func response(id: Int64, timeout: Duration = .seconds(20)) async throws -> [String: Any] {
        try await waitUntil(timeout: timeout) { self.inbox.response(id: id) != nil || self.inbox.closed }
        guard let response = inbox.response(id: id) else { throw ConnectionClosed() }
        return response
    }

    /// Every frame received so far, in order.
    var frames: [[String: Any]] { inbox.frames }

    func waitForFrames(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        try await waitUntil(timeout: timeout) { self.inbox.frames.count >= count || self.inbox.closed }
    }

    func waitForClose(timeout: Duration = .seconds(10)) async throws {
        try await waitUntil(timeout: timeout) { self.inbox.closed }
    }

    var isClosed: Bool { inbox.closed }

    func close() async {
        try? await channel.close()
    }

    struct ConnectionClosed: Error {}
}

/// What a test connection has received, shared between its event loop and the test.
final class Inbox: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var frames: [[String: Any]] = []
        var byID: [Int64: [String: Any]] = [:]
        var closed = false
        var handshakeDone = false
        var lastID: Int64 = 1_000_000
    }

    private let state = Mutex(State())

    var frames: [[String: Any]] { state.withLock { $0.frames } }
    var closed: Bool { state.withLock { $0.closed } }
    var handshakeDone: Bool { state.withLock { $0.handshakeDone } }
    func response(id: Int64) -> [String: Any]? { state.withLock { $0.byID[id] } }
    func nextID() -> Int64 { state.withLock { $0.lastID += 1; return $0.lastID } }

    func received(_ bytes: [UInt8]) {
        state.withLock { state in
            state.buffer += bytes
            while state.buffer.count >= 4 {
                let length = state.buffer.prefix(4).reduce(0) { $0 << 8 | Int($1) }
                guard state.buffer.count >= 4 + length else { break }
                let body = Data(state.buffer[4..<(4 + length)])
                state.buffer.removeFirst(4 + length)
                let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? ["unparsable": true]
                state.frames.append(object)
                if let id = (object["id"] as? NSNumber)?.int64Value { state.byID[id] = object }
            }
        }
    }

    func markHandshakeDone() { state.withLock { $0.handshakeDone = true } }
    func markClosed() { state.withLock { $0.closed = true } }
}

private final class InboxHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let inbox: Inbox

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.received(Array(unwrapInboundIn(data).readableBytesView))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSPeerVerifiedEvent { inbox.markHandshakeDone() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.markClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

extension Dictionary where Key == String, Value == Any {
    /// `status.code` of a response frame.
    var code: Int? { ((self["status"] as? [String: Any])?["code"] as? NSNumber)?.intValue }
    var statusName: String? { (self["status"] as? [String: Any])?["name"] as? String }
    var details: [String: Any]? { (self["status"] as? [String: Any])?["details"] as? [String: Any] }
    var body: [String: Any]? { self["message"] as? [String: Any] }
}
