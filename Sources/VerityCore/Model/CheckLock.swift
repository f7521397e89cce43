//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The three-strike lock of one subject, as a pure state machine over the subject's row.
///
/// A store runs each step inside one transaction (``CredentialStore/modify(_:_:)``), so every
/// step sees and changes the row atomically, whatever the number of tasks or server instances.
/// Between ``reserve(_:check:slots:now:limit:longestCheck:)`` and
/// ``finish(_:check:matched:limit:now:)`` the secret is evaluated, outside any transaction.
///
/// The rules, which `scripts/lock-model/lock.pml` checks with spin for every interleaving of
/// two instances with crashes anywhere:
/// - A check is reserved before its secret is evaluated, and only while the recorded failures
///   plus the checks still in flight stay below the limit: at most `limit` wrong secrets are
///   evaluated between clearings.
/// - A success clears the failures recorded before its own reservation (``PendingCheck/seenFailureSerial``),
///   never the failures of checks that were still in flight: a wrong guess racing a right one is
///   not forgiven.
/// - A failure blocks by looking at the row as it is now, not at a snapshot.
/// - A reservation older than `longestCheck` belongs to a check that can no longer finish (its
///   process died): it is counted as a failure, with the reason "outcome lost".
package enum CheckLock {
    /// Why a check was not reserved.
    package enum Refusal: Equatable, Sendable {
        case blocked
        /// The subject is not ACTIVE, or lacks a secret the check needs.
        case notSetUp
        /// The remaining attempts are all taken by checks still being evaluated.
        case checksInProgress
    }

    /// The result of ``reserve(_:check:slots:now:limit:longestCheck:)``.
    package struct Reservation: Equatable, Sendable {
        /// The reserved check, or why there is none.
        package var decision: Result<PendingCheck, RefusalError>
        /// Reservations of checks that never finished, counted now as failures.
        package var lostChecks: [PendingCheck]
        /// Whether this step blocked the subject (because of lost checks, or a legacy row at the limit).
        package var blocked: Bool
    }

    /// A ``Refusal`` as an error, so that a reservation reads as a `Result`.
    package struct RefusalError: Error, Equatable, Sendable {
        package var refusal: Refusal

        package init(refusal: Refusal) {
            self.refusal = refusal
        }
    }

    /// The result of ``finish(_:check:matched:limit:now:)``.
    package enum Finish: Equatable, Sendable {
        /// A match on an ACTIVE subject: the failures it saw are cleared.
        case verified
        /// A mismatch, now counted; `blocked` when it was the one that reached the limit.
        case mismatch(attemptsRemaining: Int, blocked: Bool)
        /// A match, but the subject left ACTIVE meanwhile (blocked, or defaults applied): nothing is cleared.
        case notActiveMeanwhile(SubjectState)
        /// A match against secrets that were replaced meanwhile: it proves nothing about the
        /// secrets now stored, so it verifies nothing and counts nothing.
        case credentialsChangedMeanwhile
        /// The reservation is gone: it was counted as lost, because the check outlived `longestCheck`.
        case reservationLost
    }

    /// The block reason when lost checks reach the limit.
    package static let lostReason = "attempt limit reached; a check's outcome was lost"

    /// Reserves one check, after counting the reservations that can no longer finish.
    ///
    /// - Parameters:
    ///   - slots: the stored secrets the check compares; a missing one refuses it as NOT_SET_UP.
    ///   - longestCheck: the longest a live check can take between reservation and finish.
    package static func reserve(
        _ subject: inout Subject,
        check id: String,
        slots: [CredentialSlot],
        now: Date,
        limit: Int,
        longestCheck: TimeInterval
    ) -> Reservation {
        let staleBefore = now.addingTimeInterval(-longestCheck)
        let lost = subject.pendingChecks.filter { $0.reservedAt < staleBefore }
        subject.pendingChecks.removeAll { $0.reservedAt < staleBefore }
        subject.failureSerial += Int64(lost.count)
        subject.consecutiveFailures += lost.count
        let blocked = blockIfAtLimit(&subject, limit: limit, reason: lostReason, now: now)
        let decision: Result<PendingCheck, RefusalError>
        if subject.state == .blocked {
            decision = .failure(RefusalError(refusal: .blocked))
        } else if subject.state != .active || slots.contains(where: { $0.hash(in: subject.credentials) == nil }) {
            decision = .failure(RefusalError(refusal: .notSetUp))
        } else if subject.consecutiveFailures + subject.pendingChecks.count >= limit {
            decision = .failure(RefusalError(refusal: .checksInProgress))
        } else {
            let check = PendingCheck(id: id, reservedAt: now, seenFailureSerial: subject.failureSerial)
            subject.pendingChecks.append(check)
            decision = .success(check)
        }
        return Reservation(decision: decision, lostChecks: lost, blocked: blocked)
    }

    /// Records the outcome of a reserved check on the row as it stands now.
    ///
    /// An error after the reservation (a hash that cannot be evaluated) finishes as a mismatch:
    /// the attempt stays counted, the lock fails closed.
    ///
    /// - Parameter compared: the stored hashes the secrets were compared with; a match counts
    ///   only if they are still the stored ones (found by spin: a caseworker's new details must
    ///   not be verified, or overwritten, by a check of the old ones).
    package static func finish(
        _ subject: inout Subject,
        check id: String,
        matched: Bool,
        compared: [CredentialSlot: String?] = [:],
        limit: Int,
        now: Date
    ) -> Finish {
        guard let index = subject.pendingChecks.firstIndex(where: { $0.id == id }) else { return .reservationLost }
        let check = subject.pendingChecks.remove(at: index)
        if matched {
            guard compared.allSatisfy({ $0.key.hash(in: subject.credentials) == $0.value }) else { return .credentialsChangedMeanwhile }
            guard subject.state == .active else { return .notActiveMeanwhile(subject.state) }
            // Only the failures recorded before this check was reserved are cleared.
            let clearedSerial = max(subject.failureSerial - Int64(subject.consecutiveFailures), check.seenFailureSerial)
            subject.consecutiveFailures = Int(subject.failureSerial - clearedSerial)
            return .verified
        }
        subject.failureSerial += 1
        subject.consecutiveFailures += 1
        let blocked = blockIfAtLimit(&subject, limit: limit, reason: "\(limit) consecutive failed security checks", now: now)
        let remaining = subject.state == .active ? max(0, limit - subject.consecutiveFailures) : 0
        return .mismatch(attemptsRemaining: remaining, blocked: blocked)
    }

    /// Clears every recorded failure: an unblock, or new details set by a caseworker. Checks
    /// still in flight keep their reservations and count if they fail.
    package static func reset(_ subject: inout Subject) {
        subject.consecutiveFailures = 0
    }

    private static func blockIfAtLimit(_ subject: inout Subject, limit: Int, reason: String, now: Date) -> Bool {
        guard subject.state == .active, subject.consecutiveFailures >= limit else { return false }
        subject.state = .blocked
        subject.blockedAt = now
        subject.blockReason = reason
        subject.updatedAt = now
        return true
    }
}

/// A check reserved and not yet finished, as the store keeps it.
package struct PendingCheck: Equatable, Sendable {
    /// 128 random bits, hex.
    package var id: String
    package var reservedAt: Date
    /// The subject's ``Subject/failureSerial`` when the check was reserved: a success clears
    /// failures up to this serial, and no later one.
    package var seenFailureSerial: Int64

    package init(id: String, reservedAt: Date, seenFailureSerial: Int64) {
        self.id = id
        self.reservedAt = reservedAt
        self.seenFailureSerial = seenFailureSerial
    }
}
