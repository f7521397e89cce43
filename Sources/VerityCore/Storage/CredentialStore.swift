//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

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

    /// Checks the whole audit chain (see ``AuditChain/verify(_:)``).
    func verifyAuditChain() async throws -> AuditChainReport
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
