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
    /// Required: the `BLOCKED` subject to unblock.
    public var subjectId: String
    /// Required: why, for the audit trail. Trimmed; not blank, at most 500 Unicode scalars and
    /// 2,000 UTF-8 bytes, with no control, format or line or paragraph separator characters.
    public var reason: String

    /// Creates a request; see the properties.
    public init(subjectId: String, reason: String) {
        self.subjectId = subjectId
        self.reason = reason
    }
}

/// `Admin/ListAudit` request: events after `afterSeq`, oldest first.
public struct ListAuditRequest: Codable, Equatable, Sendable {
    /// Only events about this subject; an id that names no subject gives an empty list.
    public var subjectId: String?
    /// Only events with a greater `seq`; from the start when absent.
    public var afterSeq: Int64?
    /// 1 to 1000; 100 when absent.
    public var limit: Int?

    /// Creates a request; see the properties.
    public init(subjectId: String? = nil, afterSeq: Int64? = nil, limit: Int? = nil) {
        self.subjectId = subjectId
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

/// `Admin/ListAudit` response; `nextAfterSeq` is present when more events may follow.
public struct ListAuditResponse: Codable, Equatable, Sendable {
    /// Oldest first; fewer than `limit` when the listing reached the end, or when more would not
    /// fit in one frame.
    public var events: [AuditEventMessage]
    /// The `seq` of the last event returned: pass it as `afterSeq` to continue.
    public var nextAfterSeq: Int64?

    /// Creates a response; see the properties.
    public init(events: [AuditEventMessage], nextAfterSeq: Int64?) {
        self.events = events
        self.nextAfterSeq = nextAfterSeq
    }
}

/// One audit event; `facts` say what was checked or changed, never with what.
public struct AuditEventMessage: Codable, Equatable, Sendable {
    /// Position in the trail, from 1, without gaps.
    public var seq: Int64
    /// When the act happened (RFC 3339 UTC with milliseconds).
    public var time: String
    /// The calling system: its certificate's CN (`verityd scheduler` for the scheduler's steps).
    public var caller: String
    /// The calling system's role: its certificate's OU (`system` for the service's own events).
    public var role: String
    /// The call's metadata `actor`, when given (always, for the methods that require it).
    public var actor: String?
    /// The subject acted on, when there is one.
    public var subjectId: String?
    /// The method path, such as `verity.v1.Credentials/Verify`.
    public var method: String
    /// What the act was, such as `VERIFY`, `LOCK`, `UNBLOCK` or `REFUSED`. Open: later versions
    /// add values, so accept ones you do not know.
    public var action: String
    /// How it ended, such as `OK`, `VERIFIED` or `MISMATCH`; with action `REFUSED`, the name of
    /// the status that refused the call. Open, as `action` is.
    public var outcome: String
    /// What was checked or changed, such as `checked: PIN` or `reason: ALL_ZEROES`; contacts
    /// masked, never a secret.
    public var facts: [String]
    /// The pepper key whose audit-chain key sealed the event; absent for events from before the chain was keyed.
    public var keyId: String?
    /// 64 lower-case hex digits over the event and the hash before it: with `keyId`, an HMAC-SHA256
    /// that only the service can check; without, a SHA-256 anyone can recompute.
    public var hash: String

    /// Creates an event; see the properties.
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
    /// True when every event checked out (`firstBadSeq` absent).
    public var ok: Bool
    /// How many events were examined.
    public var checked: Int
    /// The last event that checked out; 0 for an empty trail.
    public var headSeq: Int64
    /// That event's hash; 64 zeroes for an empty trail.
    public var headHash: String
    /// The first event whose content or link no longer matches its hash, or a last event that
    /// is unkeyed; absent when `ok`.
    public var firstBadSeq: Int64?
    /// The head vouched for by the service; present when the chain is intact.
    public var checkpoint: AuditCheckpointMessage?

    /// Creates a response; see the properties.
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
    /// `SERVING`, or `NOT_SERVING` when running but unable to serve other methods.
    public var status: ServingStatusName

    /// Creates a response; see the properties.
    public init(status: ServingStatusName) {
        self.status = status
    }
}

/// A head of the audit trail with the service's MAC over `verity-audit-checkpoint-v1|seq|hash|time-in-ms`.
public struct AuditCheckpointMessage: Codable, Equatable, Sendable {
    /// The head's `seq`: the last event that checked out (0 for an empty trail).
    public var seq: Int64
    /// The head's hash: 64 lower-case hex digits.
    public var hash: String
    /// When the service made the checkpoint (RFC 3339 UTC with milliseconds).
    public var time: String
    /// The pepper key whose checkpoint key made `mac`: the service's current key.
    public var keyId: String
    /// 64 lower-case hex digits. Only a holder of the pepper can check it; a client keeps and
    /// compares `seq` and `hash`.
    public var mac: String

    /// Creates a checkpoint; see the properties.
    public init(seq: Int64, hash: String, time: String, keyId: String, mac: String) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.keyId = keyId
        self.mac = mac
    }
}
