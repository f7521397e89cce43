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

/// Turns one request into one response: role check, deadline, the method's handler, and the
/// mapping of every failure to a status.
///
/// The order of checks is fixed (see `proto-spec/errors.md`): an unknown role is
/// UNAUTHENTICATED, an unknown method UNIMPLEMENTED, a method the role may not call
/// PERMISSION_DENIED (and audited); then the message is read and the use case runs.
public struct RequestDispatcher: Sendable {
    let service: CredentialService
    let pool: HashingPool
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let logger: Logger
    let callers: CallerGuard

    public init(service: CredentialService, pool: HashingPool, configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger) {
        self.service = service
        self.pool = pool
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        callers = CallerGuard(
            limits: .init(
                checksPerMinute: configuration.checksPerMinutePerCaller, codesPerMinute: configuration.codesPerMinutePerCaller,
                lockAlarmThreshold: configuration.lockAlarmThreshold, lockAlarmWindow: configuration.lockAlarmWindow
            ),
            logger: logger
        )
    }

    /// Answers `request`, received at `receivedAt`, with the body of its response frame.
    ///
    /// - Parameter connection: the connection the request came on, so that its waiting work can
    ///   be dropped when it closes.
    public func respond(
        to request: RequestEnvelope,
        from caller: Caller,
        connection: ConnectionLiveness,
        receivedAt: NIODeadline = .now()
    ) async -> ByteBuffer {
        let started = ContinuousClock.now
        let response: Result<any Encodable & Sendable, RPCError>
        do {
            response = .success(try await dispatch(request, from: caller, owner: HashingOwner(connection: connection, caller: caller.name), receivedAt: receivedAt))
        } catch let error as any RPCErrorConvertible {
            response = .failure(error.rpcError)
        } catch {
            logger.error("request failed", metadata: ["request-id": "\(LogText.sanitized(request.metadata["requestId"] ?? "-"))", "error": "\(String(reflecting: type(of: error)))"])
            response = .failure(RPCError(.unknown, ""))
        }
        let status: StatusCode = (try? response.get()) == nil ? (response.failureValue?.code ?? .unknown) : .ok
        let duration = ContinuousClock.now - started
        // Only known methods become label values: a caller-chosen name would add series for good.
        metrics.recordRequest(method: Method(rawValue: request.method)?.path ?? "unknown", status: status.name, duration: duration)
        logger.info("request", metadata: [
            "request-id": "\(LogText.sanitized(request.metadata["requestId"] ?? "-"))", "caller": "\(LogText.sanitized(caller.name))",
            "method": "\(LogText.sanitized(request.method))",
            "status": "\(status.name)", "duration-ms": "\(duration.components.attoseconds / 1_000_000_000_000_000 + duration.components.seconds * 1000)",
        ])
        return encode(response, id: request.id)
    }

    /// The answer to a request for a method that does not exist: UNIMPLEMENTED, counted under
    /// the `unknown` label, never under the caller's name for it.
    public func unknownMethodFrame(_ request: RequestEnvelope, from caller: Caller) -> ByteBuffer {
        metrics.recordRequest(method: "unknown", status: StatusCode.unimplemented.name, duration: .zero)
        return errorFrame(id: request.id, RPCError(.unimplemented, "unknown method \(LogText.sanitized(request.method))"))
    }

    /// The body of a response frame answering request `id` with `error`.
    public func errorFrame(id: Int64, _ error: RPCError) -> ByteBuffer {
        encode(.failure(error), id: id)
    }

    private func encode(_ response: Result<any Encodable & Sendable, RPCError>, id: Int64) -> ByteBuffer {
        let allocator = ByteBufferAllocator()
        do {
            let body: ByteBuffer
            switch response {
            case let .success(message): body = try Self.okBody(id: id, message, allocator: allocator)
            case let .failure(error): body = try ResponseEnvelope.error(id: id, error).encode(allocator: allocator)
            }
            guard body.readableBytes <= configuration.maximumFrameBytes else {
                let error = RPCError(.resourceExhausted, "the response would exceed the frame size", details: ["reason": "RESPONSE_TOO_LARGE"])
                return try ResponseEnvelope.error(id: id, error).encode(allocator: allocator)
            }
            return body
        } catch {
            return ByteBuffer(string: #"{"id":\#(id),"status":{"code":13,"name":"INTERNAL","message":"the response could not be encoded"}}"#)
        }
    }

    private static func okBody<Message: Encodable & Sendable>(id: Int64, _ message: Message, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        try ResponseEnvelope.ok(id: id, message).encode(allocator: allocator)
    }

    private func dispatch(
        _ request: RequestEnvelope,
        from caller: Caller,
        owner: HashingOwner,
        receivedAt: NIODeadline
    ) async throws -> any Encodable & Sendable {
        guard let role = caller.role else { throw Self.unauthenticated(caller) }
        guard let method = Method(rawValue: request.method) else {
            throw RPCError(.unimplemented, "unknown method \(LogText.sanitized(request.method))")
        }
        let context = CallContext(
            caller: caller.name, role: role.rawValue, actor: request.metadata["actor"], method: method.path,
            requestID: request.metadata["requestId"]
        )
        guard RoleTable.allows(role, method) else {
            let subject = request.message.objectValue?["subjectId"]?.stringValue.flatMap { try? SubjectID($0) }
            try await service.recordDenial(subject: subject, context: context)
            throw RPCError(.permissionDenied, "role \(role.rawValue) may not call \(method.path)")
        }
        if method.requiresActor, (request.metadata["actor"] ?? "").allSatisfy(\.isWhitespace) {
            throw RPCError.invalidArgument(field: "metadata.actor", reason: "REQUIRED", "\(method.path) needs the caseworker in metadata.actor, for the audit trail")
        }
        do {
            try callers.admit(method, caller: caller.name)
            return try await perform(method, request, context: context, owner: owner, receivedAt: receivedAt)
        } catch {
            let subject = request.message.objectValue?["subjectId"]?.stringValue.flatMap { try? SubjectID($0) }
            let rpcError = Self.rpcError(for: error, method: method, subject: subject, logger: logger)
            if case let .internalFailure(reason, _) = error as? CredentialError, ["CREDENTIAL_INTEGRITY", "CRYPTO_FAILURE"].contains(reason) {
                metrics.credentialErrors.increment()
            }
            // Refusals by a rule of the service (a policy, a precondition, a rate limit) are
            // audited; malformed messages and a full hashing queue are load, not acts.
            if method.isMutating, error is CredentialError, Self.auditedRefusals.contains(rpcError.code) {
                try? await service.recordRefusal(subject: subject, status: rpcError.code.name, reason: rpcError.details["reason"]?.stringValue, context: context)
            }
            throw rpcError
        }
    }

    /// Refusals of a mutating call that the audit trail records: a policy, a precondition, a rate limit.
    static let auditedRefusals: Set<StatusCode> = [.invalidArgument, .failedPrecondition, .resourceExhausted]

    /// The status for any error a method threw; store failures are logged with their SQLite code.
    static func rpcError(for error: any Error, method: Method, subject: SubjectID?, logger: Logger) -> RPCError {
        if let failure = error as? StoreFailure {
            logger.error("the store failed", metadata: [
                "method": "\(method.path)", "subject": "\(subject.map { "\($0)" } ?? "-")", "store-code": "\(failure.code)",
            ])
            return failure.rpcError
        }
        if let convertible = error as? any RPCErrorConvertible { return convertible.rpcError }
        logger.error("request failed", metadata: ["method": "\(method.path)", "error": "\(String(reflecting: type(of: error)))"])
        return RPCError(.internalError, "the service failed; the operators were alerted", details: ["reason": "UNEXPECTED"])
    }

    private func perform(
        _ method: Method,
        _ request: RequestEnvelope,
        context: CallContext,
        owner: HashingOwner,
        receivedAt: NIODeadline
    ) async throws -> any Encodable & Sendable {
        let timeout = min(request.timeoutMs.map { TimeAmount.milliseconds($0) } ?? configuration.defaultDeadline, configuration.maximumDeadline)
        // The deadline counts from when the frame was read, as in gRPC.
        let deadline = receivedAt + timeout
        let pool = self.pool
        let call = MethodCall(
            service: service, message: request.message, context: context, maximumFrameBytes: configuration.maximumFrameBytes,
            deadline: deadline, callers: callers
        ) { work in
            try await pool.run(deadline: deadline, owner: owner, work)
        }
        return try await call.perform(method, metrics: metrics)
    }
}

extension RequestDispatcher {
    /// Drops the hashing work still waiting for a connection that closed.
    func connectionClosed(_ connection: ConnectionLiveness) {
        connection.close()
        let pool = self.pool
        Task { await pool.cancelWaiting(of: connection) }
    }

    /// The answer to every request from a certificate whose OU names no Verity role.
    static func unauthenticated(_ caller: Caller) -> RPCError {
        RPCError(.unauthenticated, "certificate OU \(caller.identity.organizationalUnit ?? "(none)") is not a Verity role")
    }
}

extension Result {
    var failureValue: Failure? {
        if case let .failure(error) = self { error } else { nil }
    }
}
