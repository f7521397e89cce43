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

/// `verity.v1.Admin`: unblocking, and reading and verifying the audit trail.
struct AdminService: RegistrableService {
    let service: CredentialService
    let metrics: ServerMetrics

    func registerMethods(with router: inout RPCRouter) {
        let (service, metrics) = (self.service, self.metrics)
        router.register(.unblock) { (request: UnblockRequest, call) in
            let id = try SubjectID(request.subjectId)
            return {
                let state = try await service.unblock(id, reason: request.reason, context: call.context)
                metrics.unblocks.increment()
                return UnblockResponse(state: .init(state))
            }
        }
        router.register(.listAudit) { (request: ListAuditRequest, call) in
            let afterSeq = request.afterSeq ?? 0
            guard afterSeq >= 0 else { throw RPCError.invalidArgument(field: "afterSeq", reason: "OUT_OF_RANGE", "afterSeq is 0 or more") }
            let limit = request.limit ?? 100
            let subject = try request.subjectId.map { raw throws(CredentialError) in try SubjectID(raw) }
            return {
                let events = try await service.auditEvents(for: subject, afterSeq: afterSeq, limit: limit)
                return try Self.page(of: events, limit: limit, maximumFrameBytes: call.maximumFrameBytes)
            }
        }
        router.register(.verifyAuditChain) { (_: VerifyAuditChainRequest, _) in
            return {
                let report = try await service.verifyAuditChain()
                let checkpoint = report.ok ? service.checkpoint(of: report) : nil
                return VerifyAuditChainResponse(
                    ok: report.ok, checked: report.checked, headSeq: report.headSeq, headHash: report.headHash, firstBadSeq: report.firstBadSeq,
                    checkpoint: checkpoint.map {
                        AuditCheckpointMessage(seq: $0.seq, hash: $0.hash, time: Timestamp.string(from: $0.time), keyId: $0.keyID, mac: $0.mac)
                    }
                )
            }
        }
    }

    /// A page of events that fits in one frame: fewer events than asked for, and where to go on,
    /// when they do not all fit.
    private static func page(of auditEvents: [AuditEvent], limit: Int, maximumFrameBytes: Int) throws -> ListAuditResponse {
        var events = auditEvents.map(message(for:))
        var more = events.count == limit
        while events.count > 1, try WireMapping.encodedSize(ListAuditResponse(events: events, nextAfterSeq: events.last?.seq)) > maximumFrameBytes - 256 {
            events.removeLast(events.count / 2)
            more = true
        }
        // One event too large on its own still moves the listing on: its facts are left out.
        if events.count == 1, try WireMapping.encodedSize(ListAuditResponse(events: events, nextAfterSeq: events.last?.seq)) > maximumFrameBytes - 256 {
            events[0].facts = ["(facts omitted: this event does not fit in one frame)"]
            more = true
        }
        return ListAuditResponse(events: events, nextAfterSeq: more ? events.last?.seq : nil)
    }

    private static func message(for event: AuditEvent) -> AuditEventMessage {
        AuditEventMessage(
            seq: event.seq, time: Timestamp.string(from: event.time), caller: event.caller, role: event.role, actor: event.actor,
            subjectId: event.subjectID, method: event.method, action: event.action.rawValue, outcome: event.outcome,
            facts: event.facts, keyId: event.keyID, hash: event.hash
        )
    }
}
