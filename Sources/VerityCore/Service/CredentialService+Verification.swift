//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

extension CredentialService {
    /// Checks a person's PIN, password or both; when both are given, both must match.
    ///
    /// The lock, exactly as ``CheckLock`` states it: the check is reserved in the store before
    /// any secret is evaluated, so at most ``Configuration/attemptLimit`` wrong secrets are
    /// evaluated between successes, whatever the concurrency, and a check whose outcome is lost
    /// in a crash is counted. A blocked subject answers BLOCKED without its secret being looked
    /// at. An unknown subject costs the same hashing as a known one.
    ///
    /// - Throws: ``CredentialError/invalidArgument(field:reason:message:)`` when no factor is
    ///   given or one is blank; ``CredentialError/notFound(_:)`` for an unknown subject;
    ///   ``CredentialError/aborted(reason:message:)`` while other checks hold every remaining attempt.
    package func verify(
        _ id: SubjectID,
        _ factors: SecurityFactors,
        channel: VerificationChannel,
        context: CallContext
    ) async throws -> VerificationResult {
        try factors.checkOffered()
        return try await check(id, CredentialSlot.slots(for: factors, channel: channel), action: .verify, context: context)
    }

    /// Self-service change: every factor the subject has is verified first, and a failure counts
    /// towards the lock like any other check; on success the new details replace the old ones in
    /// the same transaction that records the success.
    ///
    /// The order of refusals is `proto-spec/errors.md`'s: blank factors, the subject, a
    /// representative (procedure 002 allows them no self-service), a current factor left out,
    /// the policies of the new details. None of them costs the person an attempt.
    package func change(
        _ id: SubjectID,
        current: SecurityFactors,
        new: SecurityFactors,
        channel: VerificationChannel = .portal,
        context: CallContext
    ) async throws -> VerificationResult {
        try current.checkOffered(prefix: "current")
        try new.checkOffered(prefix: "new")
        let slots = CredentialSlot.slots(for: current, channel: channel)
        guard let subject = try await store.subject(id) else {
            // An unknown subject costs the same work and answers as any other check does.
            return try await check(id, slots, action: .change, context: context)
        }
        try Self.checkChangeAllowed(subject, current: current)
        try checkPolicies(new, fieldPrefix: "new")
        let hashes = try await hash(new)
        let changed = draft(.change, "OK", subject: id, context: context, facts: new.names.map { "\($0) changed" })
        // Every stored factor is compared at the finish, not only the ones proven: details set
        // or added meanwhile make the change CREDENTIALS_CHANGED, and nothing is thrown in the
        // transaction that records the outcome (a throw would leave the reservation to be
        // counted as lost).
        let allFactors: [CredentialSlot] = [.pin, .exactPassword, .spokenPassword]
        return try await check(id, slots, action: .change, context: context, alsoCompare: allFactors) { subject in
            hashes.apply(to: &subject.credentials)
            return [changed]
        }
    }

    /// A change must prove every factor the subject has, and only a client changes their own.
    static func checkChangeAllowed(_ subject: Subject, current: SecurityFactors) throws(CredentialError) {
        guard subject.kind == .client else {
            throw .failedPrecondition(reason: "REPRESENTATIVE", message: "a representative's details are set by a caseworker, not changed by self-service")
        }
        if subject.credentials.pinHash != nil, current.pin == nil {
            throw .invalidArgument(field: "currentPin", reason: "REQUIRED", message: "the subject has a PIN: give the current PIN too")
        }
        if subject.credentials.passwordHash != nil, current.password == nil {
            throw .invalidArgument(field: "currentPassword", reason: "REQUIRED", message: "the subject has a password: give the current password too")
        }
    }

    /// One security check: reserve, evaluate, record.
    ///
    /// - Parameters:
    ///   - alsoCompare: stored factors that must not change while the check runs, though it does
    ///     not evaluate them; compared as `baseline` holds them when given, else as reserved.
    ///   - baseline: the credentials the caller read to decide which factors to check.
    ///   - onSuccess: changes the subject in the transaction that records a success, and
    ///     returns the audit events of that change.
    func check(
        _ id: SubjectID,
        _ slots: [(slot: CredentialSlot, secret: String)],
        action: AuditAction,
        context: CallContext,
        alsoCompare: [CredentialSlot] = [],
        baseline: StoredCredentials? = nil,
        onSuccess: (@Sendable (inout Subject) -> [AuditDraft])? = nil
    ) async throws -> VerificationResult {
        let checkID = Self.randomID()
        let reservation: (decision: Result<(PendingCheck, StoredCredentials), CheckLock.RefusalError>, blocked: Bool)
        do {
            reservation = try await reserve(checkID, of: id, slots: slots.map(\.slot), action: action, context: context)
        } catch let error as CredentialError where error == .notFound(id) {
            await spendDecoyWork(on: slots)
            try await store.append([draft(action, "UNKNOWN_SUBJECT", subject: id, context: context, facts: ["not evaluated: \(Self.names(slots))"])])
            throw error
        }
        if reservation.blocked {
            log("subject blocked", level: .notice, subject: id, context: context, ["reason": "\(CheckLock.lostReason)"])
        }
        switch reservation.decision {
        case let .failure(refused):
            log("security check", subject: id, context: context, ["result": "\(refused.refusal)"])
            switch refused.refusal {
            case .blocked: return VerificationResult(.blocked, attemptsRemaining: 0)
            case .notSetUp: return VerificationResult(.notSetUp, attemptsRemaining: 0)
            case .checksInProgress: throw CredentialError.checksInProgress
            }
        case let .success((pending, credentials)):
            let evaluation = await evaluate(slots, against: credentials)
            var compared: [CredentialSlot: String?] = [:]
            for slot in slots.map(\.slot) { compared[slot] = .some(slot.hash(in: credentials)) }
            for slot in alsoCompare { compared[slot] = .some(slot.hash(in: baseline ?? credentials)) }
            var result = try await finish(
                pending, of: id, evaluation, compared: compared, action: action, slots: slots, context: context, onSuccess: onSuccess
            )
            // A fallback check says which facts matched when all did; on a mismatch it says none,
            // so that a guess of several facts cannot be split into guesses of one.
            if action == .checkFacts, result.outcome == .verified { result.matched = slots.map(\.slot) }
            return result
        }
    }

    private func reserve(
        _ checkID: String,
        of id: SubjectID,
        slots: [CredentialSlot],
        action: AuditAction,
        context: CallContext
    ) async throws -> (decision: Result<(PendingCheck, StoredCredentials), CheckLock.RefusalError>, blocked: Bool) {
        let time = now()
        let (limit, longestCheck) = (configuration.attemptLimit, configuration.longestCheck)
        let notEvaluated = "not evaluated: \(slots.map(\.auditName).joined(separator: ", "))"
        return try await store.modify(id) { [self] subject in
            let reservation = CheckLock.reserve(&subject, check: checkID, slots: slots, now: time, limit: limit, longestCheck: longestCheck)
            var audit = reservation.lostChecks.map { lost in
                draft(action, "LOST", subject: id, context: context, facts: ["a check reserved at \(Timestamp.string(from: lost.reservedAt)) never finished; counted as a failure"])
            }
            if reservation.blocked {
                audit.append(draft(.lock, "BLOCKED", subject: id, context: context, facts: ["reason: \(subject.blockReason ?? CheckLock.lostReason)"]))
            }
            if case let .failure(refused) = reservation.decision {
                audit.append(draft(action, refused.refusal.auditOutcome, subject: id, context: context, facts: [notEvaluated]))
            }
            let decision = reservation.decision.map { ($0, subject.credentials) }
            return SubjectModification((decision, reservation.blocked), audit: audit)
        }
    }

    /// What comparing the secrets gave: all matched, one did not, or one could not be evaluated.
    enum Evaluation: Sendable {
        case matched(rehashes: [(slot: CredentialSlot, old: String, new: String)])
        case mismatched
        case failed(CredentialError, detail: String)
    }

    private func evaluate(_ slots: [(slot: CredentialSlot, secret: String)], against credentials: StoredCredentials) async -> Evaluation {
        var stale: [(slot: CredentialSlot, stored: String, secret: String)] = []
        var matched: [CredentialSlot] = []
        // Every factor is evaluated, even after a mismatch, so timing does not tell which one
        // failed; rehashing waits until all matched, for the same reason.
        for (slot, secret) in slots {
            guard let stored = slot.hash(in: credentials) else { return .mismatched }
            do {
                switch try await hashing.run({ [hasher] in try hasher.verify(secret, against: stored) }) {
                case .match(needsRehash: true):
                    stale.append((slot, stored, secret))
                    matched.append(slot)
                case .match(needsRehash: false):
                    matched.append(slot)
                case .mismatch:
                    break
                }
            } catch {
                return Self.evaluationFailure(error, slot: slot)
            }
        }
        guard matched.count == slots.count else { return .mismatched }
        var rehashes: [(slot: CredentialSlot, old: String, new: String)] = []
        for (slot, stored, secret) in stale {
            if let new = await rehash(secret) { rehashes.append((slot, stored, new)) }
        }
        return .matched(rehashes: rehashes)
    }

    /// A new hash under the current parameters, or `nil` when it cannot be made: a failed upgrade
    /// never turns a correct secret into a failure.
    private func rehash(_ secret: String) async -> String? {
        do {
            return try await hashing.run { [hasher] in try hasher.hash(secret) }
        } catch {
            logger.error("rehash failed; the old hash stays", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return nil
        }
    }

    static func evaluationFailure(_ error: any Error, slot: CredentialSlot) -> Evaluation {
        switch error {
        case let error as UnknownPepperKeyError:
            .failed(.credentialIntegrity, detail: "\(slot.auditName): stored hash names pepper key \(error.keyID), which the keyring lacks")
        case let error as SecretHashFormatError:
            .failed(.credentialIntegrity, detail: "\(slot.auditName): stored hash is not valid (\(error.reason))")
        default:
            .failed(.cryptoFailure, detail: "\(slot.auditName): the hashing library failed (\(String(reflecting: type(of: error))))")
        }
    }

    private func finish(
        _ pending: PendingCheck,
        of id: SubjectID,
        _ evaluation: Evaluation,
        compared: [CredentialSlot: String?],
        action: AuditAction,
        slots: [(slot: CredentialSlot, secret: String)],
        context: CallContext,
        onSuccess: (@Sendable (inout Subject) -> [AuditDraft])?
    ) async throws -> VerificationResult {
        let time = now()
        let limit = configuration.attemptLimit
        let checked = "checked: \(Self.names(slots))"
        let (finish, errorOutcome) = try await store.modify(id) { [self] subject in
            var audit: [AuditDraft] = []
            let finish: CheckLock.Finish
            guard subject.pendingChecks.contains(where: { $0.id == pending.id }) else {
                // Outlived the longest check: another check already counted it as lost.
                audit.append(draft(action, "RESERVATION_LOST", subject: id, context: context, facts: [checked, "already counted as a lost check"]))
                return SubjectModification((CheckLock.Finish.reservationLost, CredentialError?.none), audit: audit)
            }
            switch evaluation {
            case let .matched(rehashes):
                finish = CheckLock.finish(&subject, check: pending.id, matched: true, compared: compared, limit: limit, now: time)
                if finish == .verified {
                    // A hash is only upgraded if nobody replaced it since we read it.
                    for rehash in rehashes where rehash.slot.hash(in: subject.credentials) == rehash.old {
                        rehash.slot.set(rehash.new, in: &subject.credentials)
                    }
                    audit.append(draft(action, "VERIFIED", subject: id, context: context, facts: [checked]))
                    audit += onSuccess?(&subject) ?? []
                }
            case .mismatched:
                finish = CheckLock.finish(&subject, check: pending.id, matched: false, limit: limit, now: time)
                audit.append(draft(action, "MISMATCH", subject: id, context: context, facts: [checked]))
            case let .failed(_, detail):
                finish = CheckLock.finish(&subject, check: pending.id, matched: false, limit: limit, now: time)
                audit.append(draft(action, "ERROR", subject: id, context: context, facts: ["not evaluated: \(detail)", "counted as a failure"]))
            }
            switch finish {
            case let .notActiveMeanwhile(state):
                let outcome = state == .blocked ? "BLOCKED" : "NOT_SET_UP"
                audit.append(draft(action, outcome, subject: id, context: context, facts: [checked, "the subject became \(state.rawValue) meanwhile"]))
            case .credentialsChangedMeanwhile:
                audit.append(draft(
                    action, "CREDENTIALS_CHANGED", subject: id, context: context,
                    facts: [checked, "new details were set meanwhile; not verified, not counted"]
                ))
            default:
                break
            }
            if case .mismatch(_, blocked: true) = finish {
                audit.append(draft(.lock, "BLOCKED", subject: id, context: context, facts: ["reason: \(subject.blockReason ?? "")"]))
            }
            return SubjectModification((finish, evaluation.error), audit: audit)
        }
        return try answer(finish, error: errorOutcome, of: id, context: context)
    }

    private func answer(_ finish: CheckLock.Finish, error: CredentialError?, of id: SubjectID, context: CallContext) throws -> VerificationResult {
        if case let .mismatch(_, blocked) = finish, blocked {
            log("subject blocked", level: .notice, subject: id, context: context, ["reason": "\(configuration.attemptLimit) consecutive failed security checks"])
        }
        if let error {
            logger.error("a stored credential could not be evaluated; the attempt is counted", metadata: ["subject": "\(id)", "reason": "\(error)"])
            throw error
        }
        let result: VerificationResult = switch finish {
        case .verified: VerificationResult(.verified, attemptsRemaining: configuration.attemptLimit)
        case let .mismatch(remaining, blocked): VerificationResult(.mismatch, attemptsRemaining: remaining, lockedNow: blocked)
        case let .notActiveMeanwhile(state): VerificationResult(state == .blocked ? .blocked : .notSetUp, attemptsRemaining: 0)
        case .credentialsChangedMeanwhile: throw CredentialError.credentialsChanged
        case .reservationLost: throw CredentialError.reservationLost
        }
        log("security check", subject: id, context: context, ["result": "\(result.outcome.rawValue)", "attempts-remaining": "\(result.attemptsRemaining)"])
        return result
    }

    private static func names(_ slots: [(slot: CredentialSlot, secret: String)]) -> String {
        slots.map(\.slot.auditName).joined(separator: ", ")
    }

    private func spendDecoyWork(on slots: [(slot: CredentialSlot, secret: String)]) async {
        for (_, secret) in slots { _ = try? await hashing.run { [hasher] in hasher.performDecoyVerification(of: secret) } }
    }
}

extension CredentialService.Evaluation {
    var error: CredentialError? {
        if case let .failed(error, _) = self { error } else { nil }
    }
}

extension CheckLock.Refusal {
    /// The outcome the audit trail records for a check that was not reserved.
    var auditOutcome: String {
        switch self {
        case .blocked: "BLOCKED"
        case .notSetUp: "NOT_SET_UP"
        case .checksInProgress: "CHECKS_IN_PROGRESS"
        }
    }
}

/// Which stored hash a factor is checked against.
package enum CredentialSlot: Hashable, Sendable {
    case pin
    case exactPassword
    case spokenPassword
    case ivrPin
    /// A fact on file for the fallback identity check.
    case fact(FactKind)

    /// The slots to check for the factors given, each with the secret in the form its hash was made from.
    static func slots(for factors: SecurityFactors, channel: VerificationChannel) -> [(slot: CredentialSlot, secret: String)] {
        var slots: [(CredentialSlot, String)] = []
        if let pin = factors.pin { slots.append((.pin, pin)) }
        if let password = factors.password {
            let form = channel.passwordForm
            slots.append((form == .exact ? .exactPassword : .spokenPassword, form.normalize(password)))
        }
        return slots
    }

    var auditName: String {
        switch self {
        case .pin: "PIN"
        case .exactPassword: "password (exact)"
        case .spokenPassword: "password (as spoken)"
        case .ivrPin: "IVR PIN"
        case let .fact(kind): kind.auditName
        }
    }

    func hash(in credentials: StoredCredentials) -> String? {
        switch self {
        case .pin: credentials.pinHash
        case .exactPassword: credentials.passwordHash
        case .spokenPassword: credentials.spokenPasswordHash
        case .ivrPin: credentials.ivrPinHash
        case .fact(.identityDocument): credentials.identityDocumentHash
        case .fact(.placeOfBirth): credentials.placeOfBirthHash
        case .fact(.children): credentials.childrenHash
        }
    }

    func set(_ hash: String, in credentials: inout StoredCredentials) {
        switch self {
        case .pin: credentials.pinHash = hash
        case .exactPassword: credentials.passwordHash = hash
        case .spokenPassword: credentials.spokenPasswordHash = hash
        case .ivrPin: credentials.ivrPinHash = hash
        case .fact(.identityDocument): credentials.identityDocumentHash = hash
        case .fact(.placeOfBirth): credentials.placeOfBirthHash = hash
        case .fact(.children): credentials.childrenHash = hash
        }
    }

    /// Removes the stored hash.
    func clear(in credentials: inout StoredCredentials) {
        switch self {
        case .pin: credentials.pinHash = nil
        case .exactPassword: credentials.passwordHash = nil
        case .spokenPassword: credentials.spokenPasswordHash = nil
        case .ivrPin: credentials.ivrPinHash = nil
        case .fact(.identityDocument): credentials.identityDocumentHash = nil
        case .fact(.placeOfBirth): credentials.placeOfBirthHash = nil
        case .fact(.children): credentials.childrenHash = nil
        }
    }
}
