//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import VerityCore
import VerityProtocol

/// The methods the server serves, by path, each with its typed decode, its work and its encode.
///
/// As in grpc-swift-2's `RPCRouter`, each IDL service registers its methods (see
/// ``RegistrableService``); the closure a method registers captures its request and response
/// types, so the executor handles every method alike without knowing any of their types.
struct RPCRouter: Sendable {
    /// One registered method.
    struct Route: Sendable {
        let method: Method
        /// Whether the work hashes secrets, and so waits for a place in the hashing pool.
        let hashes: Bool
        /// Decodes the message and applies every rule that needs no stored data; returns the
        /// work, which the executor runs once the call is admitted.
        let prepare: @Sendable (RequestEnvelope, ServerCall) throws -> PreparedCall
    }

    private var routes: [String: Route] = [:]

    init(services: [any RegistrableService]) {
        for service in services { service.registerMethods(with: &self) }
    }

    /// Registers `method`: `prepare` maps the wire request to the domain and returns the work.
    ///
    /// - Parameter hashes: whether the work hashes secrets (it then runs within the hashing
    ///   pool's admission).
    mutating func register<Request: Decodable & Sendable, Response: Encodable & Sendable>(
        _ method: Method,
        hashes: Bool = false,
        _ prepare: @escaping @Sendable (Request, ServerCall) throws -> @Sendable () async throws -> Response
    ) {
        precondition(routes[method.path] == nil, "\(method.path) is registered twice")
        routes[method.path] = Route(method: method, hashes: hashes) { request, call in
            let work = try prepare(try request.decodeMessage(as: Request.self), call)
            let id = request.id
            return PreparedCall { try ResponseEnvelope.ok(id: id, try await work()).encode(allocator: ByteBufferAllocator()) }
        }
    }

    /// The route of a method path; `nil` for a path no service registered.
    subscript(path: String) -> Route? { routes[path] }

    /// Every registered method.
    var methods: [Method] { routes.values.map(\.method) }
}

/// A call whose message is read and checked: running it does the work and encodes the answer.
struct PreparedCall: Sendable {
    let run: @Sendable () async throws -> ByteBuffer
}

/// What a method's work knows of its call besides its message.
struct ServerCall: Sendable {
    /// Who calls, for whom, and which request, for the audit trail and the log.
    let context: CallContext
    /// The largest frame an answer may fill.
    let maximumFrameBytes: Int
    /// Counts a lock that a check of this call caused.
    let recordLock: @Sendable () -> Void
}

/// An IDL service: registers its methods with the router.
protocol RegistrableService: Sendable {
    func registerMethods(with router: inout RPCRouter)
}
