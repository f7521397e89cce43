//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

extension CredentialService {
    /// The longest unblock reason kept, in Unicode scalars.
    package static let maximumReasonLength = 500

    /// Unblocks a BLOCKED subject: an explicit act by an authorised person, with a reason
    /// that goes into the audit trail. The failure count starts again from zero.
    package func unblock(_ id: SubjectID, reason: String, context: CallContext) async throws -> SubjectState {
        let reason = try Self.auditedReason(reason, of: "an unblock")
        let audit = draft(.unblock, "OK", subject: id, context: context, facts: ["reason: \(reason)"])
        let time = now()
        let state = try await store.modify(id) { subject in
            guard subject.state == .blocked else {
                throw CredentialError.failedPrecondition(reason: "NOT_BLOCKED", message: "the subject is \(subject.state.rawValue), not BLOCKED")
            }
            subject.state = .active
            CheckLock.reset(&subject)
            subject.blockedAt = nil
            subject.blockReason = nil
            subject.updatedAt = time
            return SubjectModification(subject.state, audit: [audit])
        }
        log("subject unblocked", level: .notice, subject: id, context: context)
        return state
    }

    /// Audit events oldest first, `limit` at a time (100 by default, at most 1,000).
    package func auditEvents(for id: SubjectID? = nil, afterSeq: Int64 = 0, limit: Int = 100) async throws -> [AuditEvent] {
        guard (1...1000).contains(limit) else {
            throw CredentialError.invalidArgument(field: "limit", reason: "OUT_OF_RANGE", message: "limit is 1 to 1000")
        }
        return try await store.auditEvents(subjectID: id, afterSeq: max(0, afterSeq), limit: limit)
    }

    /// Checks the audit chain and names the first event that no longer matches its hash.
    package func verifyAuditChain() async throws -> AuditChainReport {
        try await store.verifyAuditChain()
    }

    /// Whether the store answers, for `Health/Check`: an instance whose database cannot be
    /// reached serves nothing a load balancer should send it.
    package func storeIsReachable() async -> Bool {
        do {
            try await store.checkReachable()
            return true
        } catch {
            logger.debug("health check: the store does not answer", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Which pepper keys the stored data depends on.
    package func keyInventory() async throws -> KeyInventory {
        try await store.keyInventory()
    }

    /// A checkpoint of the head a report found intact, for the operator to keep.
    package func checkpoint(of report: AuditChainReport) -> AuditCheckpoint {
        AuditCheckpoint(seq: report.headSeq, hash: report.headHash, time: now(), keyring: keyring)
    }

    /// A caseworker's reason for an act, trimmed, as the audit trail keeps it.
    package static func auditedReason(_ reason: String, of act: String) throws(CredentialError) -> String {
        try keptText(reason, field: "reason", called: "a reason", maximumLength: maximumReasonLength, whenMissing: "\(act) needs a reason, for the audit trail")
    }

    /// Free text a caseworker gives (a reason, a name), trimmed: present, at most `maximumLength`
    /// Unicode scalars, and without characters that could forge a line or hide what it says.
    package static func keptText(_ text: String, field: String, called noun: String, maximumLength: Int, whenMissing: String) throws(CredentialError) -> String {
        let kept = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !kept.isEmpty else { throw .invalidArgument(field: field, reason: "REQUIRED", message: whenMissing) }
        guard kept.unicodeScalars.count <= maximumLength, kept.utf8.count <= 4 * maximumLength else {
            throw .invalidArgument(field: field, reason: "TOO_LONG", message: "\(noun) has at most \(maximumLength) Unicode scalars")
        }
        let hidden: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]
        guard !kept.unicodeScalars.contains(where: { hidden.contains($0.properties.generalCategory) }) else {
            throw .invalidArgument(field: field, reason: "INVALID_VALUE", message: "\(noun) holds no control, format or line-separator characters")
        }
        return kept
    }

    /// Records a mutating call that was refused (a policy, a precondition, a rate limit), so that
    /// refusals leave a trace too; the reason names the rule, never the refused value.
    package func recordRefusal(subject: SubjectID?, status: String, reason: String?, context: CallContext) async throws {
        let facts = reason.map { ["reason: \($0)"] } ?? []
        try await store.append([draft(.refused, status, subject: subject, context: context, facts: facts)])
    }

    /// Records a call that the role table refused, so that denials leave a trace.
    package func recordDenial(subject: SubjectID?, context: CallContext) async throws {
        try await store.append([draft(.permissionDenied, "PERMISSION_DENIED", subject: subject, context: context)])
        log("permission denied", level: .notice, subject: subject, context: context)
    }
}
