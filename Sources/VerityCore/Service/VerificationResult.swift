//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The outcome of one security check.
package struct VerificationResult: Equatable, Sendable {
    package enum Outcome: String, CaseIterable, Sendable {
        /// Every factor asked for matched.
        case verified = "VERIFIED"
        /// At least one factor did not match; the attempt counted towards the lock.
        case mismatch = "MISMATCH"
        /// The subject is blocked; no secret was looked at.
        case blocked = "BLOCKED"
        /// Nothing to check against: no details set, defaults applied, or a factor never set.
        case notSetUp = "NOT_SET_UP"
    }

    package var outcome: Outcome
    /// Checks left before the subject is blocked: the full limit after a success, 0 when blocked or not set up.
    package var attemptsRemaining: Int
    /// Whether this check's failure blocked the subject: the one check that locked it says so,
    /// so that every lock is counted once, whatever the answer's other fields.
    package var lockedNow: Bool
    /// For a fallback identity check that was VERIFIED, the facts compared (all matched). Empty
    /// otherwise: a check never says which of several factors failed.
    package var matched: [CredentialSlot] = []

    package init(_ outcome: Outcome, attemptsRemaining: Int, lockedNow: Bool = false) {
        self.outcome = outcome
        self.attemptsRemaining = attemptsRemaining
        self.lockedNow = lockedNow
    }
}
