//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCore

/// A store that runs `afterRead` after the first read of a subject: the moment between a
/// fallback check's read of the facts on file and its reservation.
final class InterposingStore: CredentialStore, @unchecked Sendable {
    let base: any CredentialStore
    var afterRead: (@Sendable () async throws -> Void)?

    init(_ base: any CredentialStore) { self.base = base }

    func subject(_ id: SubjectID) async throws -> Subject? {
        let subject = try await base.subject(id)
        if let hook = afterRead {
            afterRead = nil
            try await hook()
        }
        return subject
    }

    func subjectStatus(_ id: SubjectID) async throws -> SubjectStatus? { try await base.subjectStatus(id) }
    func insert(_ subject: Subject, audit: AuditDraft) async throws { try await base.insert(subject, audit: audit) }
    func modify<Value: Sendable>(_ id: SubjectID, _ change: @escaping @Sendable (inout Subject) throws -> SubjectModification<Value>) async throws -> Value {
        try await base.modify(id, change)
    }
    func append(_ audit: [AuditDraft]) async throws { try await base.append(audit) }
    func auditEvents(subjectID: SubjectID?, afterSeq: Int64, limit: Int) async throws -> [AuditEvent] {
        try await base.auditEvents(subjectID: subjectID, afterSeq: afterSeq, limit: limit)
    }
    func verifyAuditChain() async throws -> AuditChainReport { try await base.verifyAuditChain() }
    func checkReachable() async throws { try await base.checkReachable() }
    func insertCode(_ challenge: CodeChallenge, delivery: Delivery, audit: AuditDraft, rateLimit: CodeRateLimit) async throws -> CodeIssueOutcome {
        try await base.insertCode(challenge, delivery: delivery, audit: audit, rateLimit: rateLimit)
    }
    func attemptCode<Value: Sendable>(
        _ id: String, subjectID: SubjectID, purpose: CodePurpose, _ attempt: @escaping @Sendable (inout CodeChallenge) throws -> SubjectModification<Value>
    ) async throws -> Value? {
        try await base.attemptCode(id, subjectID: subjectID, purpose: purpose, attempt)
    }
    func leaseDeliveries(max: Int, channels: Set<DeliveryChannel>, now: Date, until: Date, audit: AuditDraft) async throws -> [Delivery] {
        try await base.leaseDeliveries(max: max, channels: channels, now: now, until: until, audit: audit)
    }
    func acknowledgeDelivery(_ id: String, leaseToken: String, outcome: DeliveryState, audit: AuditDraft) async throws -> AcknowledgeOutcome {
        try await base.acknowledgeDelivery(id, leaseToken: leaseToken, outcome: outcome, audit: audit)
    }
    func keyInventory() async throws -> KeyInventory { try await base.keyInventory() }
    func expireDeliveries(now: Date) async throws -> Int { try await base.expireDeliveries(now: now) }
    func insertRecoveryRequest(_ request: RecoveryRequest, audit: AuditDraft, now: Date) async throws -> RecoveryRequest {
        try await base.insertRecoveryRequest(request, audit: audit, now: now)
    }
    func recoveryRequest(_ id: String) async throws -> RecoveryRequest? { try await base.recoveryRequest(id) }
    func modifyRecoveryRequest<Value: Sendable>(
        _ id: String, _ change: @escaping @Sendable (inout RecoveryRequest) throws -> SubjectModification<Value>
    ) async throws -> Value {
        try await base.modifyRecoveryRequest(id, change)
    }
    func insertChangeRequest(
        for subjectID: SubjectID, _ raise: @escaping @Sendable (Subject, DetailsChangeRequest?) throws -> WorkflowWrite<DetailsChangeRequest>
    ) async throws -> DetailsChangeRequest {
        try await base.insertChangeRequest(for: subjectID, raise)
    }
    func changeRequest(_ id: String) async throws -> DetailsChangeRequest? { try await base.changeRequest(id) }
    func modifyChangeRequest<Value: Sendable>(
        _ id: String, _ change: @escaping @Sendable (inout DetailsChangeRequest, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value {
        try await base.modifyChangeRequest(id, change)
    }
    func changeRequests(matching query: ChangeRequestQuery) async throws -> [DetailsChangeRequest] { try await base.changeRequests(matching: query) }
    func dueChangeRequests(at now: Date, after: PageCursor?, limit: Int) async throws -> [PageCursor] {
        try await base.dueChangeRequests(at: now, after: after, limit: limit)
    }
    func registrationToken(_ id: String) async throws -> RegistrationToken? { try await base.registrationToken(id) }
    func codeChallenge(_ id: String, subjectID: SubjectID, purpose: CodePurpose) async throws -> CodeChallenge? {
        try await base.codeChallenge(id, subjectID: subjectID, purpose: purpose)
    }
    func insertRegistrationToken(_ token: RegistrationToken, delivery: Delivery, audit: AuditDraft) async throws {
        try await base.insertRegistrationToken(token, delivery: delivery, audit: audit)
    }
    func redeemRegistrationToken<Value: Sendable>(
        _ id: String, _ redeem: @escaping @Sendable (inout RegistrationToken, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value? {
        try await base.redeemRegistrationToken(id, redeem)
    }
    func redeemCode<Value: Sendable>(
        _ id: String, subjectID: SubjectID, purpose: CodePurpose, _ redeem: @escaping @Sendable (inout CodeChallenge, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value? {
        try await base.redeemCode(id, subjectID: subjectID, purpose: purpose, redeem)
    }
    func linkFacts(of subjectID: SubjectID) async throws -> LinkFacts? { try await base.linkFacts(of: subjectID) }
    func setLinkFacts(_ facts: LinkFacts, for subjectID: SubjectID, audit: AuditDraft, now: Date) async throws {
        try await base.setLinkFacts(facts, for: subjectID, audit: audit, now: now)
    }
    func modifyLinks<Value: Sendable>(_ scope: LinkScope, _ change: @escaping @Sendable (inout LinkLedger) throws -> WorkflowWrite<Value>) async throws -> Value {
        try await base.modifyLinks(scope, change)
    }
    func portalLink(of subjectID: SubjectID) async throws -> PortalLink? { try await base.portalLink(of: subjectID) }
    func workflowBacklog(at now: Date) async throws -> WorkflowBacklog { try await base.workflowBacklog(at: now) }
    func linkRequest(_ id: String) async throws -> LinkRequest? { try await base.linkRequest(id) }
    func linkRequests(matching query: LinkRequestQuery) async throws -> [LinkRequest] { try await base.linkRequests(matching: query) }
}
