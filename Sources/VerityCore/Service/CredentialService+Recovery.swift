//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A person who forgot their password (procedure 000): the facts on file that confirm them
/// instead, the fallback check against those facts, and the removal of a password.
extension CredentialService {
    /// Sets the facts given, each replacing the one of its kind on file; returns the kinds on file.
    ///
    /// Each fact is brought to its canonical form, then hashed like a secret. The audit trail
    /// says which kinds were set or replaced, never their values.
    package func setFacts(_ id: SubjectID, _ facts: IdentityFacts, context: CallContext) async throws -> [FactKind] {
        let forms = try facts.canonicalForms()
        guard !forms.isEmpty else {
            throw CredentialError.invalidArgument(
                field: "identityDocument", reason: "REQUIRED", message: "give at least one fact: identityDocument, placeOfBirth or children"
            )
        }
        let hashes = try await hashing.run { [hasher] in try forms.map { (kind: $0.kind, hash: try hasher.hash($0.canonical)) } }
        let time = now()
        let onFile = try await store.modify(id) { [self] subject in
            var audit: [AuditDraft] = []
            for (kind, hash) in hashes {
                let slot = CredentialSlot.fact(kind)
                let replaced = slot.hash(in: subject.credentials) != nil
                slot.set(hash, in: &subject.credentials)
                audit.append(draft(.setFacts, "OK", subject: id, context: context, facts: ["\(kind.auditName) \(replaced ? "replaced" : "set")"]))
            }
            subject.updatedAt = time
            return SubjectModification(subject.credentials.factsOnFile, audit: audit)
        }
        log("identity facts set", subject: id, context: context, ["kinds": "\(forms.map(\.kind.rawValue))"])
        return onFile
    }

    /// Removes facts on file, with the caseworker's reason; returns the kinds left on file.
    package func removeFacts(_ id: SubjectID, _ kinds: [FactKind], reason: String, context: CallContext) async throws -> [FactKind] {
        let reason = try Self.auditedReason(reason, of: "removing a fact")
        guard !kinds.isEmpty else {
            throw CredentialError.invalidArgument(field: "facts", reason: "REQUIRED", message: "name the facts to remove")
        }
        let time = now()
        return try await store.modify(id) { [self] subject in
            var audit: [AuditDraft] = []
            for kind in Set(kinds).sorted(by: { $0.rawValue < $1.rawValue }) {
                let slot = CredentialSlot.fact(kind)
                guard slot.hash(in: subject.credentials) != nil else {
                    throw CredentialError.failedPrecondition(reason: "FACT_NOT_ON_FILE", message: "no \(kind.auditName) is on file")
                }
                slot.clear(in: &subject.credentials)
                audit.append(draft(.removeFacts, "OK", subject: id, context: context, facts: ["\(kind.auditName) removed", "reason: \(reason)"]))
            }
            subject.updatedAt = time
            return SubjectModification(subject.credentials.factsOnFile, audit: audit)
        }
    }

    /// The fallback identity check of procedure 000, counted towards the lock like any check.
    ///
    /// The procedure's order is the rule: the identity document when one is on file; otherwise
    /// the place of birth and every child's name and date of birth, whichever of them are on
    /// file, all of them. A check where any of them is wrong is one failure. Facts given beyond
    /// those are not looked at.
    ///
    /// - Throws: INVALID_ARGUMENT `REQUIRED` naming a fact the check needs and was not given
    ///   (nothing is counted); FAILED_PRECONDITION `NO_FACTS_ON_FILE` when nothing on file can
    ///   confirm the person (the procedure then asks for a copy of an identity document).
    package func checkFacts(_ id: SubjectID, _ given: IdentityFacts, context: CallContext) async throws -> FactCheck {
        let forms = try given.canonicalForms()
        let offered = Dictionary(forms.map { ($0.kind, $0.canonical) }, uniquingKeysWith: { first, _ in first })
        let required: [FactKind]
        let read = try await store.subject(id)
        if let read {
            required = try Self.requiredFacts(onFile: read.credentials.factsOnFile, offered: Set(offered.keys))
        } else {
            // An unknown subject costs the same work as a known one, and answers NOT_FOUND.
            required = forms.map(\.kind)
        }
        let slots = required.compactMap { kind in offered[kind].map { (slot: CredentialSlot.fact(kind), secret: $0) } }
        // The facts required were chosen from this read: a fact set or removed before the
        // reservation makes the check CREDENTIALS_CHANGED, never a check in the wrong order.
        let allFacts = FactKind.allCases.map(CredentialSlot.fact)
        let result = try await check(id, slots, action: .checkFacts, context: context, alsoCompare: allFacts, baseline: read?.credentials)
        let evaluated = result.outcome == .verified || result.outcome == .mismatch
        return FactCheck(result: result, checked: evaluated ? required : [], matched: result.matched.compactMap(\.factKind))
    }

    /// Which facts a check needs, by the procedure's order, and that each was given.
    static func requiredFacts(onFile: [FactKind], offered: Set<FactKind>) throws(CredentialError) -> [FactKind] {
        let required: [FactKind] = onFile.contains(.identityDocument) ? [.identityDocument] : onFile
        guard !required.isEmpty else {
            throw .failedPrecondition(
                reason: "NO_FACTS_ON_FILE",
                message: "no identity document, place of birth or children are on file: ask for a copy of an identity document"
            )
        }
        for kind in required where !offered.contains(kind) {
            let field = switch kind {
            case .identityDocument: "identityDocument"
            case .placeOfBirth: "placeOfBirth"
            case .children: "children"
            }
            throw .invalidArgument(field: field, reason: "REQUIRED", message: "the \(kind.auditName) on file must be confirmed")
        }
        return required
    }

    /// Removes the password (procedure 000, step 4), with the caseworker's reason. The subject
    /// keeps their PIN; with no secret left, an ACTIVE subject is NOT_SET_UP again.
    package func removePassword(_ id: SubjectID, reason: String, context: CallContext) async throws -> SubjectState {
        let reason = try Self.auditedReason(reason, of: "removing a password")
        let time = now()
        return try await store.modify(id) { [self] subject in
            guard subject.state != .blocked else {
                // As for SetSecurityDetails: an unblock comes first, so that a subject is never
                // unblocked into ACTIVE with no secret left.
                throw CredentialError.failedPrecondition(reason: "BLOCKED", message: "the subject is BLOCKED: unblock first")
            }
            guard subject.credentials.passwordHash != nil else {
                throw CredentialError.failedPrecondition(reason: "NO_PASSWORD", message: "the subject has no password")
            }
            CredentialSlot.exactPassword.clear(in: &subject.credentials)
            CredentialSlot.spokenPassword.clear(in: &subject.credentials)
            let credentials = subject.credentials
            if subject.state == .active, credentials.pinHash == nil, credentials.ivrPinHash == nil {
                subject.state = .notSetUp
                CheckLock.reset(&subject)
            }
            subject.updatedAt = time
            let audit = draft(.removePassword, "OK", subject: id, context: context, facts: ["password removed", "reason: \(reason)", "state: \(subject.state.rawValue)"])
            return SubjectModification(subject.state, audit: [audit])
        }
    }
}

/// The answer to a fallback identity check.
package struct FactCheck: Equatable, Sendable {
    package var result: VerificationResult
    /// The facts the procedure required and that were compared; none when the check was not evaluated.
    package var checked: [FactKind]
    /// Those of them that matched.
    package var matched: [FactKind]
}

extension CredentialSlot {
    /// The kind of fact this slot holds, if it holds one.
    var factKind: FactKind? {
        if case let .fact(kind) = self { kind } else { nil }
    }
}

/// When nothing on file confirms the person: a request that waits for a copy of an identity
/// document (procedure 000, steps 2 and 3).
extension CredentialService {
    /// Opens a recovery request for the subject, or returns the one already awaiting a document.
    package func openRecoveryRequest(for id: SubjectID, context: CallContext) async throws -> RecoveryRequest {
        let time = now()
        let request = RecoveryRequest(
            id: Self.randomID(), subjectID: id, storedStatus: .awaitingDocument, openedAt: time,
            expiresAt: time.addingTimeInterval(configuration.recoveryRequestLifetime)
        )
        let audit = draft(.openRecovery, "AWAITING_DOCUMENT", subject: id, context: context, facts: [
            "request \(request.id)", "expires \(Timestamp.string(from: request.expiresAt))",
        ])
        return try await store.insertRecoveryRequest(request, audit: audit, now: time)
    }

    /// The request as it stands now (a request past its time without a document has expired).
    package func recoveryRequest(_ requestID: String) async throws -> RecoveryRequest {
        guard let request = try await store.recoveryRequest(requestID) else {
            throw CredentialError.missing(field: "recoveryRequestId", message: "no recovery request \(requestID)")
        }
        return request
    }

    /// A caseworker confirms the copy of the document the person sent, with a reason: the audit
    /// trail then shows why a change of the password was allowed.
    /// The request must be `subject`'s: one of another subject answers as an unknown one does,
    /// so that a mistyped id confirms nobody else's case.
    package func confirmRecoveryDocument(_ requestID: String, of subject: SubjectID, reason: String, context: CallContext) async throws -> RecoveryRequest {
        let reason = try Self.auditedReason(reason, of: "confirming a document")
        let time = now()
        return try await store.modifyRecoveryRequest(requestID) { [self] request in
            guard request.subjectID == subject else {
                throw CredentialError.missing(field: "recoveryRequestId", message: "no recovery request \(requestID) for subject \(subject)")
            }
            try request.confirm(at: time)
            let audit = draft(.confirmRecovery, "DOCUMENT_CONFIRMED", subject: request.subjectID, context: context, facts: [
                "request \(request.id)", "reason: \(reason)",
            ])
            return SubjectModification(request, audit: [audit])
        }
    }
}
