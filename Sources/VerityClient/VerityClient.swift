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

/// A client of the Verity service: one mutual-TLS connection that carries many calls at once.
///
/// Every v1 method has a typed method here. A call that cannot be judged throws an
/// ``RPCError`` carrying the status code (and its name), the message and the details, exactly
/// as the server sent them; a check that does not match is not an error but a result. When the
/// connection drops, the calls in flight fail with `UNAVAILABLE` and the next call reconnects.
///
/// ```swift
/// let client = VerityClient(configuration: .init(
///     host: "127.0.0.1", port: 7443, certificatePath: ".verity/pki/ivr.pem",
///     privateKeyPath: ".verity/pki/ivr-key.pem", trustRootsPath: ".verity/pki/ca.pem"))
/// let check = try await client.verifyPin(subjectId: "case-1234567/PWC", pin: "482915")
/// if check.result == .verified { ... }
/// ```
public actor VerityClient {
    /// Where and how to connect.
    public struct Configuration: Sendable {
        /// The server's host name or address.
        public var host: String
        /// The server's port: 7443 unless configured otherwise.
        public var port: Int
        /// The name the server's certificate must carry; `localhost` for the development PKI.
        public var serverName: String
        /// The client certificate, PEM: its CN names the caller and its OU the role.
        public var certificatePath: String
        /// The client certificate's private key, PEM.
        public var privateKeyPath: String
        /// The CA certificates that the server's certificate must chain to, PEM.
        public var trustRootsPath: String
        /// How long to wait for the TCP connection and the TLS handshake.
        public var connectTimeout: Duration = .seconds(10)
        /// The deadline of calls that name none; `nil` leaves it to the server (10 s by default).
        public var defaultTimeout: Duration?
        /// How long after a call's deadline the client stops waiting for the server's answer
        /// (which is then DEADLINE_EXCEEDED, or the late result).
        public var localTimeoutGrace: Duration = .seconds(5)
        /// The caseworker named in calls that name none. The methods that act on a person's
        /// secrets, lock, requests or links are refused without one (`Method.requiresActor`).
        public var defaultActor: String?

/// Where to connect and with which certificate; the other settings keep their defaults.
        public init(
            host: String = "127.0.0.1", port: Int = 7443, serverName: String = "localhost",
            certificatePath: String, privateKeyPath: String, trustRootsPath: String
        ) {
            self.host = host
            self.port = port
            self.serverName = serverName
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
            self.trustRootsPath = trustRootsPath
        }
    }

    /// Where and how this client connects.
    public let configuration: Configuration
    private var connection: ClientConnection?
    private var connecting: Task<ClientConnection, Error>?
    private var nextID: Int64 = 1

    /// A client that connects on its first call.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Calls `method` with `request` and decodes its answer.
    ///
    /// - Parameters:
    ///   - timeout: the deadline, sent to the server as `timeoutMs`; the client also gives up
    ///     locally a few seconds after it.
    ///   - metadata: `actor` names the person on whose behalf the call is made (audited);
    ///     `requestId` is echoed in the server's logs.
    /// - Throws: ``RPCError`` with the server's status, or `UNAVAILABLE` when the connection fails.
    public func call<Request: Encodable & Sendable, Response: Decodable & Sendable>(
        _ method: Method,
        _ request: Request,
        as response: Response.Type = Response.self,
        timeout: Duration? = nil,
        metadata: [String: String] = [:]
    ) async throws -> Response {
        let body = try await callRaw(method.path, message: request, timeout: timeout, metadata: metadata)
        return try Self.decode(body, as: Response.self)
    }

    /// Sends one request and returns the response frame's body, whatever its status.
    public func callRaw<Request: Encodable & Sendable>(
        _ path: String,
        message: Request,
        timeout: Duration? = nil,
        metadata: [String: String] = [:]
    ) async throws -> ByteBuffer {
        let connection = try await openConnection()
        let id = nextID
        nextID += 1
        let deadline = timeout ?? configuration.defaultTimeout
        let envelope = OutgoingRequest(
            id: id, method: path, timeoutMs: deadline.map { Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) },
            metadata: metadata.isEmpty ? nil : metadata, message: message
        )
        let frame = ByteBuffer(bytes: try JSONEncoder().encode(envelope))
        return try await connection.send(frame, id: id, localTimeout: (deadline ?? .seconds(60)) + configuration.localTimeoutGrace)
    }

    /// Closes the connection; calls in flight fail with `UNAVAILABLE`.
    public func close() async {
        await connection?.close()
        connection = nil
    }

    /// The connection, opened on first use and again after it drops. Calls that arrive while it
    /// is being opened wait for the same attempt, so that they share one connection.
    private func openConnection() async throws -> ClientConnection {
        if let connection, connection.isUsable { return connection }
        if let connecting { return try await connecting.value }
        let attempt = Task { [configuration] in try await ClientConnection.connect(configuration) }
        connecting = attempt
        defer { connecting = nil }
        let connection = try await attempt.value
        self.connection = connection
        return connection
    }

    static func decode<Response: Decodable>(_ body: ByteBuffer, as type: Response.Type) throws -> Response {
        let frame: IncomingResponse<Response>
        do {
            frame = try JSONDecoder().decode(IncomingResponse<Response>.self, from: Data(body.readableBytesView))
        } catch {
            throw RPCError(.internalError, "the server's response could not be read: \(error)")
        }
        guard frame.status.code == StatusCode.ok.rawValue else {
            // A code this client does not know (from a newer server) is an error all the same:
            // only 0 is success.
            let code = StatusCode(rawValue: frame.status.code) ?? .unknown
            throw RPCError(code, frame.status.message ?? "", details: frame.status.details ?? [:])
        }
        guard let message = frame.message else { throw RPCError(.internalError, "the server answered OK without a message") }
        return message
    }
}

struct OutgoingRequest<Message: Encodable & Sendable>: Encodable, Sendable {
    var id: Int64
    var method: String
    var timeoutMs: Int64?
    var metadata: [String: String]?
    var message: Message
}

struct IncomingResponse<Message: Decodable>: Decodable {
    var id: Int64
    var status: ResponseEnvelope<EmptyMessage>.StatusBody
    var message: Message?
}
