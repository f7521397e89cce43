//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import VerityCrypto

/// The use cases of Verity: enrol people, set and check their security details, block and
/// unblock, and keep the audit trail.
///
/// Every rule of `domain.md` and `security.md` is decided here; the ``CredentialStore`` only
/// makes each decision atomic and durable. Hashing is synchronous CPU work inside these async
/// methods: a server calls them from a pool sized to its cores, never from an event loop.
package struct CredentialService: Sendable {
    /// The knobs of the rules.
    package struct Configuration: Sendable {
        /// Consecutive failed checks that block a subject.
        package var attemptLimit = 3
        /// The longest a check can take between its reservation and its outcome (two KDF runs and
        /// two store writes, each write bounded by the store's busy timeout, after the deadline
        /// ceiling). A reservation older than this belongs to a check that died with its process,
        /// and is counted as a failure.
        package var longestCheck: TimeInterval = 120
        package var pinPolicy = PINPolicy()
        package var passwordPolicy = PasswordPolicy()
        /// Digits in a generated IVR PIN.
        package var ivrPINLength = 6
        /// Digits in a one-time code.
        package var codeLength = 6
        /// How long a one-time code stays valid.
        package var codeLifetime: TimeInterval = 600
        /// Wrong tries that exhaust a one-time code.
        package var codeAttemptLimit = 3
        /// Codes a subject may be sent within ``codeRateWindow``.
        package var codesPerWindow = 5
        /// Codes one destination (an e-mail address, a phone) may be sent within ``codeRateWindow``.
        package var codesPerDestinationPerWindow = 10
        package var codeRateWindow: TimeInterval = 3600
        /// How long a recovery request waits for a copy of an identity document (procedure 000,
        /// step 2) before it expires: 14 days.
        package var recoveryRequestLifetime: TimeInterval = 14 * 24 * 3600
        /// The waits of a change request (procedure 002): 7 days after each letter, 24 hours to
        /// action a self-service request or a returned form.
        package var changeRequestTiming = DetailsChangeRequest.Timing()
        /// How long a portal registration e-mail's token stays valid: 72 hours.
        package var registrationTokenLifetime: TimeInterval = 72 * 3600
        /// How long after its verification a PASSWORD_RESET or ACCOUNT_LINK code grants its one
        /// act (a new password, a link): 10 minutes.
        package var codeGrantWindow: TimeInterval = 600

        package init() {}

        /// Refuses settings under which the rules would not hold: no lock, guessable PINs and
        /// codes, or nothing that ever expires.
        package func validate() throws(InvalidConfigurationError) {
            func require(_ condition: Bool, _ setting: String, _ rule: String) throws(InvalidConfigurationError) {
                guard condition else { throw InvalidConfigurationError(setting: setting, rule: rule) }
            }
            try require(attemptLimit >= 1, "attemptLimit", "at least 1")
            try require((4...12).contains(ivrPINLength), "ivrPINLength", "4 to 12 digits")
            try require((6...12).contains(codeLength), "codeLength", "6 to 12 digits")
            try require(codeLifetime > 0, "codeLifetime", "positive")
            try require(codeAttemptLimit >= 1, "codeAttemptLimit", "at least 1")
            try require(codesPerWindow >= 1, "codesPerWindow", "at least 1")
            try require(codesPerDestinationPerWindow >= 1, "codesPerDestinationPerWindow", "at least 1")
            try require(codeRateWindow > 0, "codeRateWindow", "positive")
            try require(longestCheck > 0, "longestCheck", "positive")
            try require(changeRequestTiming.letterWait > 0, "changeRequestTiming.letterWait", "positive")
            try require(changeRequestTiming.actionWithin > 0, "changeRequestTiming.actionWithin", "positive")
            try require(registrationTokenLifetime > 0, "registrationTokenLifetime", "positive")
            try require(codeGrantWindow > 0, "codeGrantWindow", "positive")
        }
    }

    let store: any CredentialStore
    let hasher: any SecretHashing
    let hashing: any HashingExecutor
    /// The pepper keys: the MAC key of one-time codes and the outbox encryption key derive from them.
    let keyring: PepperKeyring
    let configuration: Configuration
    let logger: Logger
    let now: @Sendable () -> Date

    /// The service's clock, injected in tests: what "now" is for a request's status.
    package var currentTime: Date { now() }

    /// - Parameters:
    ///   - store: where subjects and the audit trail live.
    ///   - hasher: hashes and checks secrets; tests pass an instrumented one.
    ///   - keyring: the pepper keys, for one-time codes and the outbox.
    ///   - hashing: where hashing runs; inline unless a server gives it threads of its own.
    ///   - logger: receives one line per act, never a secret.
    ///   - now: the clock, injectable for tests.
    /// - Throws: ``InvalidConfigurationError`` when `configuration` breaks a rule.
    package init(
        store: any CredentialStore,
        hasher: any SecretHashing,
        keyring: PepperKeyring,
        hashing: any HashingExecutor = InlineHashing(),
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "verity.core"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(InvalidConfigurationError) {
        try configuration.validate()
        self.store = store
        self.hasher = hasher
        self.hashing = hashing
        self.keyring = keyring
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    /// A subject's state, failure count and dates; never a secret.
    package func status(of id: SubjectID) async throws -> SubjectStatus {
        guard let status = try await store.subjectStatus(id) else { throw CredentialError.notFound(id) }
        return status
    }

    func draft(
        _ action: AuditAction,
        _ outcome: String,
        subject: SubjectID?,
        context: CallContext,
        facts: [String] = []
    ) -> AuditDraft {
        AuditDraft(time: now(), context: context, subjectID: subject, action: action, outcome: outcome, facts: facts)
    }

    func log(_ message: Logger.Message, level: Logger.Level = .info, subject: SubjectID?, context: CallContext, _ extra: Logger.Metadata = [:]) {
        var metadata: Logger.Metadata = ["caller": "\(LogText.sanitized(context.caller))", "role": "\(context.role)"]
        if let subject { metadata["subject"] = "\(subject)" }
        if let actor = context.actor { metadata["actor"] = "\(LogText.sanitized(actor))" }
        if let requestID = context.requestID { metadata["request-id"] = "\(LogText.sanitized(requestID))" }
        logger.log(level: level, message, metadata: metadata.merging(extra) { $1 })
    }
}

/// A ``CredentialService/Configuration`` setting outside what the rules allow.
package struct InvalidConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    package var setting: String
    package var rule: String

    package init(setting: String, rule: String) {
        self.setting = setting
        self.rule = rule
    }

    package var description: String { "the setting \(setting) must be \(rule)" }
}

extension CredentialError {
    static let blockedSubject = CredentialError.failedPrecondition(
        reason: "BLOCKED",
        message: "the subject is blocked; unblock it first (verity.v1.Admin/Unblock)"
    )
}
