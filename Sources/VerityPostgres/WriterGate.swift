//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
import VerityCore

/// Lets one write transaction of this instance at a time take a pooled connection; the others
/// wait here, first come first served.
///
/// Every write takes the database's write lock first, so two writes of one instance could never
/// run together anyway. Waiting for that lock in the database would hold a pooled connection per
/// waiting write: under a burst of writes every connection of the pool would be waiting, and a
/// read, which needs no lock, would find none. Waiting here leaves the pool to the reads.
final class WriterGate: Sendable {
    private enum Waiter {
        /// In the queue; its task has not yet suspended.
        case queued
        case suspended(CheckedContinuation<Void, any Error>)
        /// Given the turn before its task suspended.
        case granted
        /// Gave up (timed out or cancelled) before its task suspended.
        case abandoned(any Error)
    }

    private struct State {
        var isHeld = false
        var queue: [UInt64] = []
        var waiters: [UInt64: Waiter] = [:]
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Whether a write has the turn.
    var isHeld: Bool { state.withLock { $0.isHeld } }
    /// How many writes wait for their turn.
    var waitingCount: Int { state.withLock { $0.queue.count } }

    /// Runs `body` once it is this write's turn.
    ///
    /// - Throws: a busy ``StoreFailure`` when the turn did not come within `timeout` (the
    ///   writes before it held the store that long), or `CancellationError`.
    func withTurn<Value>(waitingAtMost timeout: Duration, _ body: () async throws -> Value) async throws -> Value {
        try await takeTurn(waitingAtMost: timeout)
        defer { passTurn() }
        return try await body()
    }

    private func takeTurn(waitingAtMost timeout: Duration) async throws {
        let queued: UInt64? = state.withLock { state in
            guard state.isHeld else {
                state.isHeld = true
                return nil
            }
            state.lastID += 1
            state.queue.append(state.lastID)
            state.waiters[state.lastID] = .queued
            return state.lastID
        }
        guard let id = queued else { return }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.abandon(id, StoreFailure(kind: .busy, code: 0, message: "this instance's earlier writes held the store for \(timeout)"))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in suspend(id, continuation) }
        } onCancel: {
            abandon(id, CancellationError())
        }
    }

    private func suspend(_ id: UInt64, _ continuation: CheckedContinuation<Void, any Error>) {
        let outcome: Result<Void, any Error>? = state.withLock { state in
            switch state.waiters[id] {
            case .queued:
                state.waiters[id] = .suspended(continuation)
                return nil
            case let .abandoned(error):
                state.waiters[id] = nil
                return .failure(error)
            case .granted:
                state.waiters[id] = nil
                return .success(())
            case .suspended, nil:
                preconditionFailure("a writer suspended twice")
            }
        }
        if let outcome { continuation.resume(with: outcome) }
    }

    /// Gives up waiting; a waiter whose turn already came keeps it.
    private func abandon(_ id: UInt64, _ error: any Error) {
        let continuation: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard let index = state.queue.firstIndex(of: id) else { return nil }
            state.queue.remove(at: index)
            if case let .suspended(continuation) = state.waiters[id] {
                state.waiters[id] = nil
                return continuation
            }
            state.waiters[id] = .abandoned(error)
            return nil
        }
        continuation?.resume(throwing: error)
    }

    /// Hands the turn to the first waiter, or frees the gate.
    private func passTurn() {
        let next: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard !state.queue.isEmpty else {
                state.isHeld = false
                return nil
            }
            let id = state.queue.removeFirst()
            if case let .suspended(continuation) = state.waiters[id] {
                state.waiters[id] = nil
                return continuation
            }
            state.waiters[id] = .granted
            return nil
        }
        next?.resume()
    }
}
