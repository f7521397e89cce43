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
    /// The lock, exactly as `security.md` states it: the attempt is reserved in the store in
    /// one atomic statement before any secret is evaluated, so at most ``Configuration/attemptLimit``
    /// secrets are evaluated between successes, whatever the concurrency, and an attempt whose
    /// outcome is lost in a crash stays counted. A blocked subject answers BLOCKED without its
    /// secret being looked at. An unknown subject costs the same hashing as a known one.
    ///
    /// - Throws: ``CredentialError/invalidArgument(field:reason:message:)`` when no factor is
    ///   given; ``CredentialError/notFound(_:)`` for an unknown subject.
    public func verify(
        _ id: SubjectID,
        _ factors: SecurityFactors,
        channel: VerificationChannel,
        context: CallContext
    ) async throws -> VerificationResult {
        guard !factors.isEmpty else {
            throw CredentialError.invalidArgument(field: "pin", reason: "REQUIRED", message: "give a PIN, a password or both")
        }
        return try await check(id, CredentialSlot.slots(for: factors, channel: channel), action: .verify, context: context)
    }

    /// Self-service change: the current details are verified first, and a failure counts
    /// towards the lock like any other check; on success the new details replace the old.
    ///
    /// New details are checked against the policies before the current ones are evaluated, so
    /// a refused choice costs the person no attempt.
    public func change(
        _ id: SubjectID,
        current: SecurityFactors,
        new: SecurityFactors,
        channel: VerificationChannel = .portal,
        context: CallContext
    ) async throws -> VerificationResult {
        guard !current.isEmpty else {
            throw CredentialError.invalidArgument(field: "currentPin", reason: "REQUIRED", message: "give the current PIN, password or both")
        }
        try checkPolicies(new, fieldPrefix: "new")
        let result = try await check(id, CredentialSlot.slots(for: current, channel: channel), action: .change, context: context)
        guard result.outcome == .verified else { return result }
        let hashes = try await hash(new)
        let audit = draft(.change, "OK", subject: id, context: context, facts: new.names.map { "\($0) changed" })
        let time = now()
        try await store.modify(id) { subject in
            // We re-check the state: a concurrent check may have blocked the subject meanwhile.
            guard subject.state == .active else { throw CredentialError.blockedSubject }
            hashes.apply(to: &subject.credentials)
            subject.updatedAt = time
            return SubjectModification((), audit: [audit])
        }
        log("security details changed", subject: id, context: context)
        return result
    }

    /// One security check: reserve, evaluate, record.
    func check(
        _ id: SubjectID,
        _ slots: [(slot: CredentialSlot, secret: String)],
        action: AuditAction,
        context: CallContext
    ) async throws -> VerificationResult {
        let factorNames = slots.map(\.slot.auditName)
        guard let known = try await store.subject(id) else {
            await spendDecoyWork(on: slots)
            throw CredentialError.notFound(id)
        }
        if known.state == .active, slots.contains(where: { $0.slot.hash(in: known.credentials) == nil }) {
            return try await answerWithoutEvaluating(known, action: action, facts: factorNames, context: context)
        }
        switch try await store.reserveAttempt(id, limit: configuration.attemptLimit) {
        case .notFound:
            await spendDecoyWork(on: slots)
            throw CredentialError.notFound(id)
        case let .refused(subject):
            return try await answerWithoutEvaluating(subject, action: action, facts: factorNames, context: context)
        case let .reserved(subject):
            return try await evaluate(slots, of: subject, action: action, context: context)
        }
    }

    private func evaluate(
        _ slots: [(slot: CredentialSlot, secret: String)],
        of subject: Subject,
        action: AuditAction,
        context: CallContext
    ) async throws -> VerificationResult {
        var rehashes: [(slot: CredentialSlot, old: String, new: String)] = []
        var allMatch = true
        // Every factor is evaluated, even after a mismatch, so timing does not tell which one failed.
        for (slot, secret) in slots {
            guard let stored = slot.hash(in: subject.credentials) else {
                // A concurrent ApplyDefaults removed the factor after our first read; the
                // attempt stays counted (fail closed) and there is nothing to compare.
                return VerificationResult(.notSetUp, attemptsRemaining: 0)
            }
            switch try await hashing.run({ [hasher] in try hasher.verify(secret, against: stored) }) {
            case .match(needsRehash: true):
                rehashes.append((slot, stored, try await hashing.run { [hasher] in try hasher.hash(secret) }))
            case .match(needsRehash: false):
                break
            case .mismatch:
                allMatch = false
            }
        }
        let checked = "checked: \(slots.map(\.slot.auditName).joined(separator: ", "))"
        if allMatch {
            return try await recordSuccess(of: subject.id, rehashing: rehashes, action: action, checked: checked, context: context)
        }
        return try await recordFailure(of: subject, action: action, checked: checked, context: context)
    }

    private func recordSuccess(
        of id: SubjectID,
        rehashing rehashes: [(slot: CredentialSlot, old: String, new: String)],
        action: AuditAction,
        checked: String,
        context: CallContext
    ) async throws -> VerificationResult {
        let audit = draft(action, VerificationResult.Outcome.verified.rawValue, subject: id, context: context, facts: [checked])
        try await store.modify(id) { subject in
            if subject.state == .active { subject.consecutiveFailures = 0 }
            // A hash is only upgraded if nobody replaced it since we read it.
            for rehash in rehashes where rehash.slot.hash(in: subject.credentials) == rehash.old {
                rehash.slot.set(rehash.new, in: &subject.credentials)
            }
            return SubjectModification((), audit: [audit])
        }
        log("security check", subject: id, context: context, ["result": "VERIFIED", "rehashed": "\(rehashes.count)"])
        return VerificationResult(.verified, attemptsRemaining: configuration.attemptLimit)
    }

    private func recordFailure(
        of subject: Subject,
        action: AuditAction,
        checked: String,
        context: CallContext
    ) async throws -> VerificationResult {
        let remaining = max(0, configuration.attemptLimit - subject.consecutiveFailures)
        let mismatch = draft(action, VerificationResult.Outcome.mismatch.rawValue, subject: subject.id, context: context, facts: [checked])
        guard remaining == 0 else {
            try await store.append([mismatch])
            log("security check", subject: subject.id, context: context, ["result": "MISMATCH", "attempts-remaining": "\(remaining)"])
            return VerificationResult(.mismatch, attemptsRemaining: remaining)
        }
        try await block(subject.id, reason: "\(configuration.attemptLimit) consecutive failed security checks", with: [mismatch], context: context)
        return VerificationResult(.mismatch, attemptsRemaining: 0)
    }

    /// Answers a check that may not evaluate any secret: BLOCKED, or NOT_SET_UP.
    private func answerWithoutEvaluating(
        _ subject: Subject,
        action: AuditAction,
        facts: [String],
        context: CallContext
    ) async throws -> VerificationResult {
        let outcome: VerificationResult.Outcome
        switch subject.state {
        case .blocked:
            outcome = .blocked
        case .notSetUp, .defaultsApplied:
            outcome = .notSetUp
        case .active where subject.consecutiveFailures >= configuration.attemptLimit:
            // The limit was reached but the subject never got blocked: the check that reached it
            // was cut off before its outcome was recorded. We complete the lock now.
            outcome = .blocked
            try await block(subject.id, reason: "attempt limit reached; the last check's outcome was lost", with: [], context: context)
        case .active:
            outcome = .notSetUp
        }
        let audit = draft(action, outcome.rawValue, subject: subject.id, context: context, facts: ["not evaluated: \(facts.joined(separator: ", "))"])
        try await store.append([audit])
        log("security check", subject: subject.id, context: context, ["result": "\(outcome.rawValue)"])
        return VerificationResult(outcome, attemptsRemaining: 0)
    }

    private func block(_ id: SubjectID, reason: String, with events: [AuditDraft], context: CallContext) async throws {
        let lock = draft(.lock, "BLOCKED", subject: id, context: context, facts: ["reason: \(reason)"])
        let time = now()
        let blocked = try await store.modify(id) { subject in
            guard subject.state == .active else { return SubjectModification(false, audit: events) }
            subject.state = .blocked
            subject.blockedAt = time
            subject.blockReason = reason
            subject.updatedAt = time
            return SubjectModification(true, audit: events + [lock])
        }
        if blocked {
            log("subject blocked", level: .notice, subject: id, context: context, ["reason": "\(reason)"])
        }
    }

    private func spendDecoyWork(on slots: [(slot: CredentialSlot, secret: String)]) async {
        for (_, secret) in slots { _ = try? await hashing.run { [hasher] in hasher.performDecoyVerification(of: secret) } }
    }
}

/// Which stored hash a factor is checked against.
enum CredentialSlot: Sendable {
    case pin
    case exactPassword
    case spokenPassword
    case ivrPin

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
        }
    }

    func hash(in credentials: StoredCredentials) -> String? {
        switch self {
        case .pin: credentials.pinHash
        case .exactPassword: credentials.passwordHash
        case .spokenPassword: credentials.spokenPasswordHash
        case .ivrPin: credentials.ivrPinHash
        }
    }

    func set(_ hash: String, in credentials: inout StoredCredentials) {
        switch self {
        case .pin: credentials.pinHash = hash
        case .exactPassword: credentials.passwordHash = hash
        case .spokenPassword: credentials.spokenPasswordHash = hash
        case .ivrPin: credentials.ivrPinHash = hash
        }
    }
}
