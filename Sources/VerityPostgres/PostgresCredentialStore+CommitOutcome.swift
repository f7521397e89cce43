//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import PostgresNIO
import Synchronization
import VerityCore

/// A write's COMMIT: not sent yet, sent (with the write's value and transaction id, until the
/// COMMIT is answered), or never to be sent because the caller gave up first.
final class PendingCommit<Value: Sendable>: Sendable {
    private enum Stage {
        case notSent
        case sent(Value, transaction: Int64)
        case abandoned
    }

    private let stage = Mutex(Stage.notSent)

    /// Records that the COMMIT goes out; false when the caller has given up, and it must not.
    func sendingCommit(_ value: Value, transaction: Int64) -> Bool {
        stage.withLock { stage in
            guard case .notSent = stage else { return false }
            stage = .sent(value, transaction: transaction)
            return true
        }
    }

    /// The COMMIT was answered with an error: nothing to look up.
    func forget() { stage.withLock { $0 = .abandoned } }

    /// For a caller that failed: the value and transaction of a COMMIT that went out and whose
    /// answer never came, to be looked up; otherwise nil, and no COMMIT will go out after this.
    func unansweredOrAbandoned() -> (Value, Int64)? {
        stage.withLock { stage in
            if case let .sent(value, transaction) = stage { return (value, transaction) }
            stage = .abandoned
            return nil
        }
    }
}

extension PostgresCredentialStore {
    /// Learns, on another connection, whether the write transaction `transaction`, whose COMMIT
    /// got no answer, was committed; returns when it was.
    ///
    /// A COMMIT the server received completes whatever became of the connection; one it never
    /// received leaves the transaction in progress until the server ends the session (the
    /// statement and idle timeouts, or the keepalives), which aborts it. So the answer is
    /// awaited for at most the statement timeout and the connect timeout together.
    ///
    /// - Throws: an unavailable ``StoreFailure`` when the transaction was aborted (nothing
    ///   written), a failed one when its outcome could not be learnt (outcome unknown, as
    ///   `INTERNAL` `STORE_ERROR` says).
    func confirmCommit(of transaction: Int64, after error: any Error) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int((configuration.statementTimeout + configuration.acquireTimeout) * 1000))
        var status = await commitStatus(of: transaction)
        // Asked again while in progress, and while it cannot be asked: the pool may first hand
        // out the very connection that was closed.
        while status == .inProgress || status == .unknown, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            status = await commitStatus(of: transaction)
        }
        switch status {
        case .committed:
            logger.notice("a COMMIT's answer was lost; the transaction was committed", metadata: ["error": "\(error)"])
        case .aborted:
            throw StoreFailure(kind: .unavailable, code: 0, message: "the connection broke before the commit took effect (\(error)); nothing was written")
        case .inProgress, .unknown:
            logger.error("a COMMIT's answer was lost, and whether it took effect cannot be learnt", metadata: ["error": "\(error)"])
            throw StoreFailure(kind: .failed, code: 0, message: "the connection broke during the commit (\(error)); whether the act was written is unknown")
        }
    }

    private enum CommitStatus {
        case committed, aborted, inProgress
        /// The database could not be asked.
        case unknown
    }

    private func commitStatus(of transaction: Int64) async -> CommitStatus {
        do {
            let status = try await read { session in try await session.scalar("SELECT txid_status(?)", [transaction], as: String?.self) }
            switch status {
            case "committed": return .committed
            case "in progress": return .inProgress
            // Aborted, or too old to be known (the server keeps every status far longer than
            // these seconds): not committed.
            default: return .aborted
            }
        } catch {
            return .unknown
        }
    }
}
