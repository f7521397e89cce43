//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Where subjects, their hashed secrets, their failure counts and the audit trail are kept.
///
/// The rules live in ``CredentialService``; a store only promises atomicity. Every method that
/// takes audit drafts appends them in the same transaction as its change, so an act and its
/// record are never separated. A second implementation (PostgreSQL, for several server
/// instances) implements this protocol without touching the rules.
public protocol CredentialStore: Sendable {
    /// Adds a new subject.
    ///
    /// - Throws: ``CredentialError/alreadyExists(_:)`` when the id is taken.
    func insert(_ subject: Subject, audit: AuditDraft) async throws

    /// The subject with this id, if enrolled.
    func subject(_ id: SubjectID) async throws -> Subject?

    /// Reads a subject, lets `change` edit it, and writes it back with the audit drafts it
    /// returns, all in one transaction. When `change` throws, nothing is written.
    ///
    /// - Throws: ``CredentialError/notFound(_:)`` when no subject has this id, or what `change` throws.
    func modify<Value: Sendable>(
        _ id: SubjectID,
        _ change: @escaping @Sendable (inout Subject) throws -> SubjectModification<Value>
    ) async throws -> Value

    /// Reserves one security check in a single atomic statement: increments the failure count
    /// where the subject is ACTIVE and below `limit`, and returns the subject as it then stands.
    ///
    /// The reservation is durable before any secret is evaluated, so a crash between the two
    /// leaves the attempt counted: the lock fails closed.
    func reserveAttempt(_ id: SubjectID, limit: Int) async throws -> AttemptReservation

    /// Appends audit events that accompany no change of a subject.
    func append(_ audit: [AuditDraft]) async throws

    /// Events oldest first, after `afterSeq`, at most `limit`; only one subject's when `subjectID` is given.
    func auditEvents(subjectID: SubjectID?, afterSeq: Int64, limit: Int) async throws -> [AuditEvent]

    /// Checks the whole audit chain (see ``AuditChainVerifier``).
    func verifyAuditChain() async throws -> AuditChainReport

    /// Stores a new one-time code and its delivery in one transaction, unless the subject has
    /// already been sent `rateLimit.maximum` codes since `rateLimit.windowStart`. Any code still
    /// active for the same subject and purpose is replaced.
    func insertCode(_ challenge: CodeChallenge, delivery: Delivery, audit: AuditDraft, rateLimit: CodeRateLimit) async throws -> CodeIssueOutcome

    /// Reserves one try of a code in a single atomic statement, as ``reserveAttempt(_:limit:)``
    /// does for security checks: counted where the challenge is active, unexpired and below `limit`.
    func reserveCodeAttempt(_ id: String, limit: Int, now: Date) async throws -> CodeReservation

    /// Records the outcome of a reserved try: a match uses the code up; a mismatch that reached
    /// `limit` exhausts it.
    func finishCodeAttempt(_ id: String, matched: Bool, limit: Int, audit: AuditDraft) async throws

    /// Hands out up to `max` pending deliveries whose lease is free, leased until `until`, and
    /// erases the content of deliveries that expired unacknowledged.
    func leaseDeliveries(max: Int, now: Date, until: Date, audit: AuditDraft) async throws -> [Delivery]

    /// Records that a pending delivery was sent or failed, and erases its content.
    ///
    /// - Returns: `false` when no pending delivery has this id.
    func acknowledgeDelivery(_ id: String, outcome: DeliveryState, audit: AuditDraft) async throws -> Bool
}

/// How many codes a subject may be sent since when.
public struct CodeRateLimit: Equatable, Sendable {
    public var windowStart: Date
    public var maximum: Int

    public init(windowStart: Date, maximum: Int) {
        self.windowStart = windowStart
        self.maximum = maximum
    }
}

/// The answer to ``CredentialStore/insertCode(_:delivery:audit:rateLimit:)``.
public enum CodeIssueOutcome: Equatable, Sendable {
    case issued
    /// Nothing was stored; the oldest code in the window was issued at this time.
    case rateLimited(oldestInWindow: Date)
}

/// The answer to a code-try reservation.
public enum CodeReservation: Equatable, Sendable {
    /// The try is counted; the challenge as it stands after the increment.
    case reserved(CodeChallenge)
    /// Nothing was reserved: used, replaced, exhausted or expired.
    case refused(CodeChallenge)
    case notFound
}

/// What a ``CredentialStore/modify(_:_:)`` change returns: its result, and the events to append with it.
public struct SubjectModification<Value: Sendable>: Sendable {
    public var value: Value
    public var audit: [AuditDraft]

    public init(_ value: Value, audit: [AuditDraft]) {
        self.value = value
        self.audit = audit
    }
}

/// The answer to an attempt reservation.
public enum AttemptReservation: Equatable, Sendable {
    /// The attempt is counted; the subject as it stands after the increment.
    case reserved(Subject)
    /// Nothing was reserved: the subject is not ACTIVE, or already at the limit.
    case refused(Subject)
    case notFound
}
