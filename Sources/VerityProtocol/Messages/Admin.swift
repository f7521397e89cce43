//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Admin and verity.v1.Health.

/// `Admin/Unblock` request; the reason is required and goes into the audit trail.
public struct UnblockRequest: Codable, Equatable, Sendable {
    public var subjectId: String
    public var reason: String

    public init(subjectId: String, reason: String) {
        self.subjectId = subjectId
        self.reason = reason
    }
}

/// `Admin/ListAudit` request: events after `afterSeq`, oldest first.
public struct ListAuditRequest: Codable, Equatable, Sendable {
    public var subjectId: String?
    public var afterSeq: Int64?
    /// 1 to 1000; 100 when absent.
    public var limit: Int?

    public init(subjectId: String? = nil, afterSeq: Int64? = nil, limit: Int? = nil) {
        self.subjectId = subjectId
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

/// `Admin/ListAudit` response; `nextAfterSeq` is present when more events may follow.
public struct ListAuditResponse: Codable, Equatable, Sendable {
    public var events: [AuditEventMessage]
    public var nextAfterSeq: Int64?

    public init(events: [AuditEventMessage], nextAfterSeq: Int64?) {
        self.events = events
        self.nextAfterSeq = nextAfterSeq
    }
}

/// One audit event; `facts` say what was checked or changed, never with what.
public struct AuditEventMessage: Codable, Equatable, Sendable {
    public var seq: Int64
    public var time: String
    public var caller: String
    public var role: String
    public var actor: String?
    public var subjectId: String?
    public var method: String
    public var action: String
    public var outcome: String
    public var facts: [String]
    /// The pepper key whose audit-chain key sealed the event; absent for events from before the chain was keyed.
    public var keyId: String?
    public var hash: String

    public init(
        seq: Int64, time: String, caller: String, role: String, actor: String?, subjectId: String?, method: String,
        action: String, outcome: String, facts: [String], keyId: String?, hash: String
    ) {
        self.seq = seq
        self.time = time
        self.caller = caller
        self.role = role
        self.actor = actor
        self.subjectId = subjectId
        self.method = method
        self.action = action
        self.outcome = outcome
        self.facts = facts
        self.keyId = keyId
        self.hash = hash
    }
}

/// `Admin/VerifyAuditChain` response.
public struct VerifyAuditChainResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var checked: Int
    public var headSeq: Int64
    public var headHash: String
    public var firstBadSeq: Int64?
    /// The head vouched for by the service; present when the chain is intact.
    public var checkpoint: AuditCheckpointMessage?

    public init(ok: Bool, checked: Int, headSeq: Int64, headHash: String, firstBadSeq: Int64?, checkpoint: AuditCheckpointMessage? = nil) {
        self.checkpoint = checkpoint
        self.ok = ok
        self.checked = checked
        self.headSeq = headSeq
        self.headHash = headHash
        self.firstBadSeq = firstBadSeq
    }
}

/// `Health/Check` response: `SERVING` or `NOT_SERVING`.
public struct HealthCheckResponse: Codable, Equatable, Sendable {
    public var status: ServingStatusName

    public init(status: ServingStatusName) {
        self.status = status
    }
}

/// A head of the audit trail with the service's MAC over `verity-audit-checkpoint-v1|seq|hash|time-in-ms`.
public struct AuditCheckpointMessage: Codable, Equatable, Sendable {
    public var seq: Int64
    public var hash: String
    public var time: String
    public var keyId: String
    public var mac: String

    public init(seq: Int64, hash: String, time: String, keyId: String, mac: String) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.keyId = keyId
        self.mac = mac
    }
}
