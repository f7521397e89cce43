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

/// Runs one request through the order of checks of `proto-spec/errors.md` that follows the
/// connection's own (steps 6 to 12), and turns its outcome into the response frame.
///
/// The one place that decides, in this order: the method (UNIMPLEMENTED), the role's permission
/// (PERMISSION_DENIED, audited), the caseworker a method needs in `metadata.actor`, the caller's
/// pace, the typed decode and every rule without stored data, the deadline (checked once, here,
/// and kept by the hashing pool), the hashing admission (before any store work, so a full queue
/// refuses before an attempt is reserved), the work, the mapping of any failure to a status (and
/// the audit of a refused mutating call), the metrics by known method, the log line, and the
/// frame size cap.
struct RequestExecutor: Sendable {
    let router: RPCRouter
    let service: CredentialService
    let pool: HashingPool
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let logger: Logger
    let callers: CallerGuard

    /// - Parameter developmentClock: the service's clock, when `Development/AdvanceClock` may move it
    ///   (development mode only); `nil` leaves the method unimplemented.
    init(
        service: CredentialService, pool: HashingPool, configuration: ServerConfiguration, metrics: ServerMetrics,
        developmentClock: ServiceClock? = nil, logger: Logger
    ) {
        var services: [any RegistrableService] = [
            SubjectsService(service: service), CredentialsService(service: service), IvrService(service: service),
            MfaService(service: service), NotificationsService(service: service), AdminService(service: service, metrics: metrics),
            HealthService(service: service), RecoveryService(service: service), ChangeRequestsService(service: service), PortalService(service: service),
            LinksService(service: service),
        ]
        if let developmentClock { services.append(DevelopmentService(service: service, clock: developmentClock)) }
        router = RPCRouter(services: services)
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

    /// Answers `request` from `caller`, whose role is known, with the body of its response frame.
    ///
    /// - Parameters:
    ///   - connection: the connection the request came on, so that its waiting work can be
    ///     dropped when it closes.
    ///   - receivedAt: when its frame was read: the deadline counts from then, as in gRPC.
    func respond(to request: RequestEnvelope, from caller: Caller, role: Role, connection: ConnectionLiveness, receivedAt: NIODeadline = .now()) async -> ByteBuffer {
        let started = ContinuousClock.now
        let outcome: Result<ByteBuffer, RPCError>
        do {
            outcome = .success(try await execute(request, from: caller, role: role, connection: connection, receivedAt: receivedAt))
        } catch {
            outcome = .failure(error)
        }
        let body = frame(for: outcome, id: request.id)
        record(request, from: caller, status: body.status, duration: ContinuousClock.now - started)
        return body.frame
    }

    /// Whether `path` names a method the server serves; a request for any other is answered at
    /// once by ``unknownMethodFrame(_:)``.
    func serves(_ path: String) -> Bool { router[path] != nil }

    /// The answer to a request for a method that does not exist: UNIMPLEMENTED, counted under
    /// the `unknown` label, never under the caller's name for it.
    func unknownMethodFrame(_ request: RequestEnvelope) -> ByteBuffer {
        metrics.recordRequest(method: "unknown", status: StatusCode.unimplemented.name, duration: .zero)
        return errorFrame(id: request.id, Self.unimplemented(request.method))
    }

    /// The body of a response frame answering request `id` with `error`.
    func errorFrame(id: Int64, _ error: RPCError) -> ByteBuffer {
        (try? ResponseEnvelope.error(id: id, error).encode(allocator: ByteBufferAllocator()))
            ?? ByteBuffer(string: #"{"id":\#(id),"status":{"code":13,"name":"INTERNAL","message":"the response could not be encoded"}}"#)
    }

    // MARK: The order of checks

    private func execute(
        _ request: RequestEnvelope, from caller: Caller, role: Role, connection: ConnectionLiveness, receivedAt: NIODeadline
    ) async throws(RPCError) -> ByteBuffer {
        guard let route = router[request.method] else { throw Self.unimplemented(request.method) }
        let method = route.method
        let context = CallContext(
            caller: caller.name, role: role.rawValue, actor: request.metadata["actor"], method: method.path, requestID: request.metadata["requestId"]
        )
        guard RoleTable.allows(role, method) else {
            let subject = Self.subjectHint(request)
            do {
                try await service.recordDenial(subject: subject, context: context)
            } catch {
                throw rpcError(for: error, method: method, subject: subject)
            }
            throw RPCError(.permissionDenied, "role \(role.rawValue) may not call \(method.path)")
        }
        if method.requiresActor, (request.metadata["actor"] ?? "").allSatisfy(\.isWhitespace) {
            throw .invalidArgument(field: "metadata.actor", reason: "REQUIRED", "\(method.path) needs the caseworker in metadata.actor, for the audit trail")
        }
        do {
            try callers.admit(method, caller: caller.name)
            let call = ServerCall(context: context, maximumFrameBytes: configuration.maximumFrameBytes) { [metrics, callers] in
                metrics.recordLock(caller: caller.name)
                callers.recordLock(by: caller.name)
            }
            let prepared = try route.prepare(request, call)
            let deadline = receivedAt + min(request.timeoutMs.map { TimeAmount.milliseconds($0) } ?? configuration.defaultDeadline, configuration.maximumDeadline)
            guard NIODeadline.now() < deadline else { throw RPCError(.deadlineExceeded, "the deadline passed before the work started") }
            guard route.hashes else { return try await prepared.run() }
            return try await pool.run(deadline: deadline, owner: HashingOwner(connection: connection, caller: caller.name), prepared.run)
        } catch {
            throw await refusal(error, of: method, request: request, context: context)
        }
    }

    /// The status for a failure of an admitted call; a refusal of a mutating call by a rule of
    /// the service (a policy, a precondition, a rate limit) is audited. Malformed messages and a
    /// full hashing queue are load, not acts, and are not.
    private func refusal(_ error: any Error, of method: Method, request: RequestEnvelope, context: CallContext) async -> RPCError {
        let subject = Self.subjectHint(request)
        let rpcError = rpcError(for: error, method: method, subject: subject)
        if case let .internalFailure(reason, _) = error as? CredentialError, ["CREDENTIAL_INTEGRITY", "CRYPTO_FAILURE"].contains(reason) {
            metrics.credentialErrors.increment()
        }
        if method.isMutating, error is CredentialError, Self.auditedRefusals.contains(rpcError.code) {
            try? await service.recordRefusal(subject: subject, status: rpcError.code.name, reason: rpcError.details["reason"]?.stringValue, context: context)
        }
        return rpcError
    }

    /// Refusals of a mutating call that the audit trail records: a policy, a precondition, a rate limit.
    static let auditedRefusals: Set<StatusCode> = [.invalidArgument, .failedPrecondition, .resourceExhausted]

    /// The status for any error a method threw; store failures are logged with the store's code
    /// and message (``StoreFailure/code``; PostgreSQL's SQLSTATE is in the message), which never
    /// hold a secret: secrets reach the store only hashed.
    private func rpcError(for error: any Error, method: Method, subject: SubjectID?) -> RPCError {
        if let failure = error as? StoreFailure {
            logger.error("the store failed", metadata: [
                "method": "\(method.path)", "subject": "\(subject.map { "\($0)" } ?? "-")", "store-code": "\(failure.code)",
                "store-message": "\(failure.message)",
            ])
            return failure.rpcError
        }
        if let convertible = error as? any RPCErrorConvertible { return convertible.rpcError }
        logger.error("request failed", metadata: ["method": "\(method.path)", "error": "\(String(reflecting: type(of: error)))"])
        return RPCError(.internalError, "the service failed; the operators were alerted", details: ["reason": "UNEXPECTED"])
    }

    // MARK: The answer

    /// The response frame, within the frame size cap.
    private func frame(for outcome: Result<ByteBuffer, RPCError>, id: Int64) -> (frame: ByteBuffer, status: StatusCode) {
        switch outcome {
        case let .success(body) where body.readableBytes <= configuration.maximumFrameBytes:
            (body, .ok)
        case .success:
            (errorFrame(id: id, RPCError(.resourceExhausted, "the response would exceed the frame size", details: ["reason": "RESPONSE_TOO_LARGE"])), .resourceExhausted)
        case let .failure(error):
            (errorFrame(id: id, error), error.code)
        }
    }

    private func record(_ request: RequestEnvelope, from caller: Caller, status: StatusCode, duration: Duration) {
        // Only known methods become label values: a caller-chosen name would add series for good.
        metrics.recordRequest(method: router[request.method]?.method.path ?? "unknown", status: status.name, duration: duration)
        logger.info("request", metadata: [
            "request-id": "\(LogText.sanitized(request.metadata["requestId"] ?? "-"))", "caller": "\(LogText.sanitized(caller.name))",
            "method": "\(LogText.sanitized(request.method))", "status": "\(status.name)",
            "duration-ms": "\(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)",
        ])
    }

    /// The subject a request names, for the audit of a denial or a refusal; read only then.
    private static func subjectHint(_ request: RequestEnvelope) -> SubjectID? {
        (try? request.decodeMessage(as: SubjectHint.self))?.subjectId.flatMap { try? SubjectID($0) }
    }

    private static func unimplemented(_ path: String) -> RPCError {
        RPCError(.unimplemented, "unknown method \(LogText.sanitized(path))")
    }
}

extension RequestExecutor {
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

/// The one field a denial or a refusal needs from any message.
private struct SubjectHint: Decodable {
    var subjectId: String?
}
