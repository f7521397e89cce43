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

/// One call of one method: reads the method's message, runs the use case, builds the answer.
struct MethodCall: Sendable {
    let service: CredentialService
    let message: JSONValue
    let context: CallContext
    let maximumFrameBytes: Int
    /// When the caller stops waiting: work not started by then is not started.
    let deadline: NIODeadline
    /// Counts the locks this caller causes.
    let callers: CallerGuard
    /// Runs work that hashes secrets on the hashing pool, once the message has been checked.
    let admitted: @Sendable (@Sendable () async throws -> any Encodable & Sendable) async throws -> any Encodable & Sendable

    func perform(_ method: Method, metrics: ServerMetrics) async throws -> any Encodable & Sendable {
        // Methods that hash secrets check their deadline when the pool admits them; the others
        // read their message first, then check it before any work (proto-spec/errors.md).
        switch method {
        case .enroll: try await enroll()
        case .updateContacts: try await updateContacts()
        case .getStatus: try await getStatus()
        case .setSecurityDetails: try await setSecurityDetails()
        case .applyDefaults: try await applyDefaults()
        case .verify: try await verify(metrics: metrics)
        case .change: try await change(metrics: metrics)
        case .unblock: try await unblock(metrics: metrics)
        case .listAudit: try await listAudit()
        case .verifyAuditChain: try await verifyAuditChain()
        case .healthCheck: HealthCheckResponse(status: "SERVING")
        case .generatePin: try await generatePin()
        case .verifyPin: try await verifyPin(metrics: metrics)
        case .issueCode: try await issueCode()
        case .verifyCode: try await verifyCode()
        case .lease: try await lease()
        case .ack: try await ack()
        }
    }

    private func enroll() async throws -> EnrollResponse {
        let request = try message.decode(as: EnrollRequest.self)
        let id = try SubjectID(request.subjectId)
        let kind = try Self.enumValue(SubjectKind.self, request.kind, field: "kind")
        let represented = try request.representsSubjectId.map { try SubjectID($0, field: "representsSubjectId") }
        let contacts = try Self.contacts(request.contacts ?? ContactsMessage())
        try checkDeadline()
        do {
            let status = try await service.enroll(id, kind: kind, representing: represented, contacts: contacts, context: context)
            return EnrollResponse(subjectId: status.subjectID.rawValue, state: status.state.rawValue)
        } catch let CredentialError.notFound(missing) where missing == represented {
            throw RPCError(.notFound, "no subject \(missing)", details: ["field": "representsSubjectId"])
        }
    }

    private func updateContacts() async throws -> EmptyMessage {
        let request = try message.decode(as: UpdateContactsRequest.self)
        let (id, contacts) = (try SubjectID(request.subjectId), try Self.contacts(request.contacts))
        try checkDeadline()
        try await service.updateContacts(id, to: contacts, context: context)
        return EmptyMessage()
    }

    private func getStatus() async throws -> GetStatusResponse {
        let id = try SubjectID(try message.decode(as: SubjectRequest.self).subjectId)
        try checkDeadline()
        let status = try await service.status(of: id)
        return GetStatusResponse(
            subjectId: status.subjectID.rawValue, kind: status.kind.rawValue,
            representsSubjectId: status.representsSubjectID?.rawValue, state: status.state.rawValue,
            consecutiveFailures: status.consecutiveFailures, blockedAt: status.blockedAt.map(Timestamp.string(from:)),
            blockReason: status.blockReason, hasPin: status.hasPIN, hasPassword: status.hasPassword,
            ivrPinUpdatedAt: status.ivrPINUpdatedAt.map(Timestamp.string(from:)), updatedAt: Timestamp.string(from: status.updatedAt)
        )
    }

    private func setSecurityDetails() async throws -> any Encodable & Sendable {
        let request = try message.decode(as: SetSecurityDetailsRequest.self)
        let id = try SubjectID(request.subjectId)
        let details = SecurityFactors(pin: request.pin, password: request.password)
        try service.checkPolicies(details)
        let (service, context) = (self.service, self.context)
        return try await admitted {
            StateResponse(state: try await service.setSecurityDetails(id, details, context: context).rawValue)
        }
    }

    private func applyDefaults() async throws -> StateResponse {
        let id = try SubjectID(try message.decode(as: SubjectRequest.self).subjectId)
        try checkDeadline()
        return StateResponse(state: try await service.applyDefaults(id, context: context).rawValue)
    }

    private func verify(metrics: ServerMetrics) async throws -> any Encodable & Sendable {
        let request = try message.decode(as: VerifyRequest.self)
        let id = try SubjectID(request.subjectId)
        let channel = try Self.enumValue(VerificationChannel.self, request.channel, field: "channel")
        let factors = SecurityFactors(pin: request.pin, password: request.password)
        try factors.checkOffered()
        let (service, context) = (self.service, self.context)
        return try await admitted {
            response(try await service.verify(id, factors, channel: channel, context: context), metrics: metrics)
        }
    }

    private func change(metrics: ServerMetrics) async throws -> any Encodable & Sendable {
        let request = try message.decode(as: ChangeRequest.self)
        let id = try SubjectID(request.subjectId)
        let channel = try request.channel.map { try Self.enumValue(VerificationChannel.self, $0, field: "channel") } ?? .portal
        let current = SecurityFactors(pin: request.currentPin, password: request.currentPassword)
        let new = SecurityFactors(pin: request.newPin, password: request.newPassword)
        try current.checkOffered(prefix: "current")
        try new.checkOffered(prefix: "new")
        let (service, context) = (self.service, self.context)
        return try await admitted {
            response(try await service.change(id, current: current, new: new, channel: channel, context: context), metrics: metrics)
        }
    }

    private func generatePin() async throws -> any Encodable & Sendable {
        let id = try SubjectID(try message.decode(as: SubjectRequest.self).subjectId)
        let (service, context) = (self.service, self.context)
        return try await admitted {
            let generated = try await service.generateIVRPIN(for: id, context: context)
            return GeneratePinResponse(pin: generated.pin, updatedAt: Timestamp.string(from: generated.updatedAt))
        }
    }

    private func verifyPin(metrics: ServerMetrics) async throws -> any Encodable & Sendable {
        let request = try message.decode(as: VerifyPinRequest.self)
        let id = try SubjectID(request.subjectId)
        try SecurityFactors.checkNotBlank(request.pin, field: "pin")
        let (service, context) = (self.service, self.context)
        return try await admitted {
            response(try await service.verifyIVRPIN(id, pin: request.pin, context: context), metrics: metrics)
        }
    }

    private func issueCode() async throws -> IssueCodeResponse {
        let request = try message.decode(as: IssueCodeRequest.self)
        let id = try SubjectID(request.subjectId)
        let channel = try Self.enumValue(CodeChannel.self, request.channel, field: "channel")
        let purpose = try Self.enumValue(CodePurpose.self, request.purpose, field: "purpose")
        try checkDeadline()
        let issued = try await service.issueCode(to: id, channel: channel, purpose: purpose, destination: request.destination, context: context)
        return IssueCodeResponse(
            challengeId: issued.challengeID, maskedDestination: issued.maskedDestination, expiresAt: Timestamp.string(from: issued.expiresAt)
        )
    }

    private func verifyCode() async throws -> VerifyCodeResponse {
        let request = try message.decode(as: VerifyCodeRequest.self)
        try SecurityFactors.checkNotBlank(request.code, field: "code")
        let subject = try SubjectID(request.subjectId)
        let purpose = try Self.enumValue(CodePurpose.self, request.purpose, field: "purpose")
        try checkDeadline()
        let result = try await service.verifyCode(challenge: request.challengeId, code: request.code, subject: subject, purpose: purpose, context: context)
        return VerifyCodeResponse(
            result: result.outcome.rawValue, attemptsRemaining: result.attemptsRemaining, subjectId: subject.rawValue, purpose: purpose.rawValue
        )
    }

    private func lease() async throws -> LeaseResponse {
        let request = try message.decode(as: LeaseRequest.self)
        try checkDeadline()
        // A delivery is well under 1 KiB: leasing no more than fit in one frame means an answer
        // never fails for its size after the deliveries were leased.
        let fitting = Swift.max(1, (maximumFrameBytes - 256) / 1024)
        let max = (1...100).contains(request.max) ? Swift.min(request.max, fitting) : request.max
        let deliveries = try await service.leaseDeliveries(max: max, leaseSeconds: request.leaseSeconds, context: context)
        return LeaseResponse(deliveries: deliveries.map {
            DeliveryMessage(
                deliveryId: $0.id, leaseToken: $0.leaseToken, channel: $0.channel.rawValue, destination: $0.content.destination,
                template: $0.content.template, variables: $0.content.variables
            )
        })
    }

    private func ack() async throws -> EmptyMessage {
        let request = try message.decode(as: AckRequest.self)
        let outcome = try Self.enumValue(DeliveryState.self, request.outcome, field: "outcome")
        try checkDeadline()
        try await service.acknowledgeDelivery(request.deliveryId, leaseToken: request.leaseToken, outcome: outcome, context: context)
        return EmptyMessage()
    }

    private func unblock(metrics: ServerMetrics) async throws -> StateResponse {
        let request = try message.decode(as: UnblockRequest.self)
        try checkDeadline()
        let state = try await service.unblock(try SubjectID(request.subjectId), reason: request.reason, context: context)
        metrics.unblocks.increment()
        return StateResponse(state: state.rawValue)
    }

    private func listAudit() async throws -> ListAuditResponse {
        let request = try message.decode(as: ListAuditRequest.self)
        let afterSeq = request.afterSeq ?? 0
        guard afterSeq >= 0 else { throw RPCError.invalidArgument(field: "afterSeq", reason: "OUT_OF_RANGE", "afterSeq is 0 or more") }
        let limit = request.limit ?? 100
        let subject = try request.subjectId.map { try SubjectID($0) }
        try checkDeadline()
        var events = try await service.auditEvents(for: subject, afterSeq: afterSeq, limit: limit).map(Self.message(for:))
        var more = events.count == limit
        // A response never exceeds the frame size: we return fewer events and say where to go on.
        while events.count > 1, try Self.encodedSize(ListAuditResponse(events: events, nextAfterSeq: events.last?.seq)) > maximumFrameBytes - 256 {
            events.removeLast(events.count / 2)
            more = true
        }
        // One event too large on its own still moves the listing on: its facts are left out.
        if events.count == 1, try Self.encodedSize(ListAuditResponse(events: events, nextAfterSeq: events.last?.seq)) > maximumFrameBytes - 256 {
            events[0].facts = ["(facts omitted: this event does not fit in one frame)"]
            more = true
        }
        return ListAuditResponse(events: events, nextAfterSeq: more ? events.last?.seq : nil)
    }

    private func verifyAuditChain() async throws -> VerifyAuditChainResponse {
        try checkDeadline()
        let report = try await service.verifyAuditChain()
        let checkpoint = report.ok ? service.checkpoint(of: report) : nil
        return VerifyAuditChainResponse(
            ok: report.ok, checked: report.checked, headSeq: report.headSeq, headHash: report.headHash, firstBadSeq: report.firstBadSeq,
            checkpoint: checkpoint.map {
                AuditCheckpointMessage(seq: $0.seq, hash: $0.hash, time: Timestamp.string(from: $0.time), keyId: $0.keyID, mac: $0.mac)
            }
        )
    }

    private func checkDeadline() throws {
        guard NIODeadline.now() < deadline else { throw RPCError(.deadlineExceeded, "the deadline passed before the work started") }
    }

    // MARK: Mapping

    private func response(_ result: VerificationResult, metrics: ServerMetrics) -> VerificationResponse {
        if result.outcome == .mismatch, result.attemptsRemaining == 0 {
            metrics.recordLock(caller: context.caller)
            callers.recordLock(by: context.caller)
        }
        return VerificationResponse(result: result.outcome.rawValue, attemptsRemaining: result.attemptsRemaining)
    }

    private static func message(for event: AuditEvent) -> AuditEventMessage {
        AuditEventMessage(
            seq: event.seq, time: Timestamp.string(from: event.time), caller: event.caller, role: event.role, actor: event.actor,
            subjectId: event.subjectID, method: event.method, action: event.action.rawValue, outcome: event.outcome,
            facts: event.facts, keyId: event.keyID, hash: event.hash
        )
    }

    private static func contacts(_ message: ContactsMessage) throws -> Contacts {
        let phones = try (message.phones ?? []).enumerated().map { index, phone in
            Phone(number: phone.number, type: try enumValue(PhoneType.self, phone.type, field: "contacts.phones[\(index)].type"))
        }
        return Contacts(emails: message.emails ?? [], phones: phones)
    }

    private static func enumValue<Value: RawRepresentable & CaseIterable>(_ type: Value.Type, _ raw: String, field: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError.invalidArgument(field: field, reason: "INVALID_VALUE", "\(field) must be one of \(allowed)")
        }
        return value
    }

    private static func encodedSize(_ response: ListAuditResponse) throws -> Int {
        try ResponseEnvelope.ok(id: RequestEnvelope.maximumID, response).encode(allocator: ByteBufferAllocator()).readableBytes
    }
}
