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
package protocol CredentialStore: Sendable {
    /// Adds a new subject.
    ///
    /// - Throws: ``CredentialError/alreadyExists(_:)`` when the id is taken.
    func insert(_ subject: Subject, audit: AuditDraft) async throws

    /// The subject with this id, if enrolled.
    func subject(_ id: SubjectID) async throws -> Subject?

    /// The status of the subject with this id, if enrolled: a read of what a status shows only
    /// (no contacts, no checks in flight), for the most frequent call.
    func subjectStatus(_ id: SubjectID) async throws -> SubjectStatus?

    /// Reads a subject, lets `change` edit it, and writes it back with the audit drafts it
    /// returns, all in one transaction. When `change` throws, nothing is written.
    ///
    /// - Throws: ``CredentialError/notFound(_:)`` when no subject has this id, or what `change` throws.
    func modify<Value: Sendable>(
        _ id: SubjectID,
        _ change: @escaping @Sendable (inout Subject) throws -> SubjectModification<Value>
    ) async throws -> Value

    /// Appends audit events that accompany no change of a subject.
    func append(_ audit: [AuditDraft]) async throws

    /// Events oldest first, after `afterSeq`, at most `limit`; only one subject's when `subjectID` is given.
    func auditEvents(subjectID: SubjectID?, afterSeq: Int64, limit: Int) async throws -> [AuditEvent]

    /// Checks the whole audit chain (see ``AuditChainVerifier``).
    func verifyAuditChain() async throws -> AuditChainReport

    /// Returns once the database answers a trivial read: what a health check asks.
    ///
    /// - Throws: a ``StoreFailure`` when it cannot be reached or does not answer.
    func checkReachable() async throws

    /// Stores a new one-time code and its delivery in one transaction, unless the subject has
    /// already been sent `rateLimit.maximum` codes since `rateLimit.windowStart`, or the
    /// challenge's destination `rateLimit.maximumPerDestination`. Any code still
    /// active for the same subject and purpose is replaced, and its pending delivery expired.
    func insertCode(_ challenge: CodeChallenge, delivery: Delivery, audit: AuditDraft, rateLimit: CodeRateLimit) async throws -> CodeIssueOutcome

    /// Runs one try of a code in one transaction: reads the challenge `id` of `subjectID` and
    /// `purpose`, lets `attempt` decide and change it, and writes it back with the audit events
    /// `attempt` returns. Tries of one challenge are thereby serialised: exactly one right try
    /// can use a code, however many arrive at once.
    ///
    /// - Returns: what `attempt` returned, or `nil` when no challenge has this id, subject and purpose.
    func attemptCode<Value: Sendable>(
        _ id: String,
        subjectID: SubjectID,
        purpose: CodePurpose,
        _ attempt: @escaping @Sendable (inout CodeChallenge) throws -> SubjectModification<Value>
    ) async throws -> Value?

    /// Hands out up to `max` pending deliveries whose lease is free, of the given channels (every
    /// channel when empty), leased until `until` under a new lease token each.
    func leaseDeliveries(max: Int, channels: Set<DeliveryChannel>, now: Date, until: Date, audit: AuditDraft) async throws -> [Delivery]

    /// Records that a pending delivery was sent or failed, and erases its content, if
    /// `leaseToken` names its current lease.
    func acknowledgeDelivery(_ id: String, leaseToken: String, outcome: DeliveryState, audit: AuditDraft) async throws -> AcknowledgeOutcome

    /// Which pepper keys the stored hashes, codes, deliveries and audit events depend on.
    func keyInventory() async throws -> KeyInventory

    /// Stores a new recovery request with its audit event, unless the subject already has one
    /// awaiting a document at `now` (then that one is returned and nothing is written).
    func insertRecoveryRequest(_ request: RecoveryRequest, audit: AuditDraft, now: Date) async throws -> RecoveryRequest

    /// The recovery request with this id, if any.
    func recoveryRequest(_ id: String) async throws -> RecoveryRequest?

    /// Reads, changes and writes back one recovery request in one transaction, with the audit
    /// events `change` returns.
    ///
    /// - Throws: ``CredentialError/missing(field:message:)`` (`requestId`) when no request has this id.
    func modifyRecoveryRequest<Value: Sendable>(
        _ id: String,
        _ change: @escaping @Sendable (inout RecoveryRequest) throws -> SubjectModification<Value>
    ) async throws -> Value

    /// Reads the subject and the change request still active for it, if any, lets `raise` decide,
    /// and stores the request it returns with its letters and audit events, in one transaction.
    ///
    /// - Throws: ``CredentialError/notFound(_:)`` when no subject has this id, or what `raise` throws.
    func insertChangeRequest(
        for subjectID: SubjectID,
        _ raise: @escaping @Sendable (_ subject: Subject, _ active: DetailsChangeRequest?) throws -> WorkflowWrite<DetailsChangeRequest>
    ) async throws -> DetailsChangeRequest

    /// The change request with this id, if any.
    func changeRequest(_ id: String) async throws -> DetailsChangeRequest?

    /// Reads one change request and its subject, lets `change` edit both, and writes back what
    /// changed with the letters and audit events it returns, in one transaction: an accepted
    /// change, its new details, the unblock and the confirmation are never separated.
    ///
    /// - Throws: ``CredentialError/missing(field:message:)`` (`changeRequestId`) when no request
    ///   has this id, or what `change` throws.
    func modifyChangeRequest<Value: Sendable>(
        _ id: String,
        _ change: @escaping @Sendable (inout DetailsChangeRequest, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value

    /// The change requests that match, oldest first, from after `query.after`, at most `query.limit`.
    func changeRequests(matching query: ChangeRequestQuery) async throws -> [DetailsChangeRequest]

    /// Requests waiting for the person whose due time is at or before `now`, most overdue first,
    /// after `after`, at most `limit`: each as its due time and id.
    func dueChangeRequests(at now: Date, after: PageCursor?, limit: Int) async throws -> [PageCursor]

    /// Stores a new registration token with its e-mail and audit event; any token still active for
    /// the subject is replaced, and its e-mail, if not yet sent, withdrawn.
    func insertRegistrationToken(_ token: RegistrationToken, delivery: Delivery, audit: AuditDraft) async throws

    /// The registration token with this id, if any.
    func registrationToken(_ id: String) async throws -> RegistrationToken?

    /// The challenge `id`, only if it is `subjectID`'s and for `purpose`.
    func codeChallenge(_ id: String, subjectID: SubjectID, purpose: CodePurpose) async throws -> CodeChallenge?

    /// Reads the registration token `id` and its subject, lets `redeem` edit both, and writes back
    /// what changed with its audit events, in one transaction: of parallel redemptions, one wins.
    ///
    /// - Returns: what `redeem` returned, or `nil` when no token has this id.
    func redeemRegistrationToken<Value: Sendable>(
        _ id: String, _ redeem: @escaping @Sendable (inout RegistrationToken, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value?

    /// Reads the challenge `id` of `subjectID` and `purpose` and the subject, lets `redeem` use the
    /// verified code for its act and change the subject, and writes both back in one transaction.
    ///
    /// - Returns: what `redeem` returned, or `nil` when no such challenge exists.
    func redeemCode<Value: Sendable>(
        _ id: String, subjectID: SubjectID, purpose: CodePurpose,
        _ redeem: @escaping @Sendable (inout CodeChallenge, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value?

    /// The facts on file for linking a portal account to the subject, if any.
    func linkFacts(of subjectID: SubjectID) async throws -> LinkFacts?

    /// Replaces the subject's facts for linking, with the audit event.
    ///
    /// - Throws: ``CredentialError/notFound(_:)`` when no subject has this id.
    func setLinkFacts(_ facts: LinkFacts, for subjectID: SubjectID, audit: AuditDraft, now: Date) async throws

    /// Reads what a linking act looks at (``LinkLedger``) for `scope`, lets `change` decide, and
    /// writes back the links, requests and challenge it changed, with its audit events, in one
    /// transaction.
    func modifyLinks<Value: Sendable>(_ scope: LinkScope, _ change: @escaping @Sendable (inout LinkLedger) throws -> WorkflowWrite<Value>) async throws -> Value

    /// The portal account linked to the subject, if any.
    func portalLink(of subjectID: SubjectID) async throws -> PortalLink?

    /// The link request with this id, if any.
    func linkRequest(_ id: String) async throws -> LinkRequest?

    /// The link requests that match, oldest first, after `query.after`, at most `query.limit`.
    func linkRequests(matching query: LinkRequestQuery) async throws -> [LinkRequest]

    /// How much waits for a caseworker at `now`, for the operator's metrics.
    func workflowBacklog(at now: Date) async throws -> WorkflowBacklog

    /// Erases the content of pending deliveries that expired unacknowledged.
    ///
    /// - Returns: how many were expired.
    func expireDeliveries(now: Date) async throws -> Int
}

/// The answer to ``CredentialStore/acknowledgeDelivery(_:leaseToken:outcome:audit:)``.
package enum AcknowledgeOutcome: Equatable, Sendable {
    case acknowledged
    /// No pending delivery has this id.
    case notFound
    /// The delivery is leased under another token: its lease was given to another notifier.
    case leaseLost
}

/// How many codes a subject, and a destination, may be sent since when.
package struct CodeRateLimit: Equatable, Sendable {
    package var windowStart: Date
    package var maximum: Int
    /// Codes one destination may be sent in the window, whoever they are for: several people can
    /// share a phone or a mailbox, and none of them may turn it into a pager.
    package var maximumPerDestination: Int

    package init(windowStart: Date, maximum: Int, maximumPerDestination: Int) {
        self.windowStart = windowStart
        self.maximum = maximum
        self.maximumPerDestination = maximumPerDestination
    }
}

/// The answer to ``CredentialStore/insertCode(_:delivery:audit:rateLimit:)``.
package enum CodeIssueOutcome: Equatable, Sendable {
    case issued
    /// Nothing was stored; the oldest code in the window was issued at this time.
    case rateLimited(oldestInWindow: Date)
    /// Nothing was stored: the destination had its codes for the window; the oldest at this time.
    case destinationRateLimited(oldestInWindow: Date)
}

/// What a workflow's act writes besides its own record: letters for the outbox and audit events.
package struct WorkflowWrite<Value: Sendable>: Sendable {
    package var value: Value
    /// Letters the act sends, written after any it withdraws.
    package var deliveries: [Delivery]
    package var audit: [AuditDraft]
    /// Whether the request's letters not yet sent are withdrawn: the act answered what they ask,
    /// so they expire, erased, as a replaced code's message does.
    package var withdrawsPendingLetters: Bool

    package init(_ value: Value, deliveries: [Delivery] = [], audit: [AuditDraft], withdrawsPendingLetters: Bool = false) {
        self.value = value
        self.deliveries = deliveries
        self.audit = audit
        self.withdrawsPendingLetters = withdrawsPendingLetters
    }
}

/// What waits for caseworkers: the queues an operator watches.
package struct WorkflowBacklog: Equatable, Sendable {
    /// Change requests past their due time that still wait for someone.
    package var overdueChangeRequests: Int
    /// Link requests pending in the counties' queues.
    package var pendingLinkRequests: Int

    package init(overdueChangeRequests: Int, pendingLinkRequests: Int) {
        self.overdueChangeRequests = overdueChangeRequests
        self.pendingLinkRequests = pendingLinkRequests
    }
}

/// Which change requests a caseworker lists.
package struct ChangeRequestQuery: Equatable, Sendable {
    /// Any of these statuses; all when empty.
    package var statuses: Set<DetailsChangeRequest.Status> = []
    package var subjectID: SubjectID?
    /// Only requests due at or before this time (ended requests have no due time).
    package var dueAtOrBefore: Date?
    /// The last request of the previous page: its creation time and id.
    package var after: PageCursor?
    package var limit = 25

    package init() {}
}

/// Where a page of a listing ends, in its order: a time (a change request's creation, a link
/// request's request), then the id.
package struct PageCursor: Equatable, Sendable {
    package var time: Date
    package var id: String

    package init(time: Date, id: String) {
        self.time = time
        self.id = id
    }
}

/// What a linking act reads: ``CredentialStore/modifyLinks(_:_:)``.
package enum LinkScope: Sendable {
    /// A portal's submission: the subject, the portal account and, if given, the account-link challenge.
    case submission(subject: SubjectID, portalAccountID: String, challengeID: String?)
    /// A request in a queue, with every request of its submission.
    case request(id: String)
    /// A subject and its link.
    case subject(SubjectID)
}

/// Everything a linking act decides on, as read in its transaction; the act edits it and the
/// store writes back the differences.
package struct LinkLedger: Sendable {
    package var subject: Subject
    package var facts: LinkFacts?
    /// The links of the subject and of the portal account in scope (at most one each).
    package var links: [PortalLink]
    /// For a request in scope: every request of its submission, the named one first; for a
    /// submission: the person's pending requests. Requests appended by the act are inserted.
    package var requests: [LinkRequest]
    /// The account-link challenge of a submission, if one was named and found.
    package var challenge: CodeChallenge?

    package init(subject: Subject, facts: LinkFacts?, links: [PortalLink], requests: [LinkRequest], challenge: CodeChallenge?) {
        self.subject = subject
        self.facts = facts
        self.links = links
        self.requests = requests
        self.challenge = challenge
    }
}

/// Which link requests a caseworker searches.
package struct LinkRequestQuery: Equatable, Sendable {
    /// Any of these; all when empty.
    package var statuses: Set<LinkRequest.Status> = [.pending]
    /// Part of the registrant's name, compared without case.
    package var registrantName: String?
    package var subjectID: SubjectID?
    package var county: String?
    package var requestedFrom: Date?
    package var requestedTo: Date?
    /// The last request of the previous page.
    package var after: PageCursor?
    package var limit = 25

    package init() {}
}

/// What a ``CredentialStore/modify(_:_:)`` change returns: its result, and the events to append with it.
package struct SubjectModification<Value: Sendable>: Sendable {
    package var value: Value
    package var audit: [AuditDraft]

    package init(_ value: Value, audit: [AuditDraft]) {
        self.value = value
        self.audit = audit
    }
}

