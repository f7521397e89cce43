//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// Runs work that may never finish, and answers by a deadline whatever the work does.
///
/// A statement sent on a connection the server has already closed can wait for ever in
/// postgres-nio (seen over TLS after the server terminated the session mid-COMMIT, closing the
/// connection did not end the wait). So the caller is answered from a race, not from the work:
/// the work runs in a task of its own, and when the deadline or the caller's cancellation comes
/// first, `abandon` runs before the caller hears `expired` (or `CancellationError`), and the
/// work is cancelled and left behind rather than waited for. `abandon` must make sure that the
/// work can do nothing more (by closing its connection), since the caller goes on at once.
final class DeadlineRace<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var outcome: Result<Value, any Error>?
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let abandon: @Sendable () -> Void

    private init(abandon: @escaping @Sendable () -> Void) {
        self.abandon = abandon
    }

    /// What `work` returns or throws, or `expired` once `limit` has passed.
    static func run(
        within limit: Duration,
        expired: any Error,
        abandon: @escaping @Sendable () -> Void,
        _ work: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let race = DeadlineRace(abandon: abandon)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Already cancelled: answered at once, and the work never starts.
                guard race.wait(with: continuation) else { return }
                let worker = Task {
                    do {
                        race.finish(.success(try await work()), byWork: true)
                    } catch {
                        race.finish(.failure(error), byWork: true)
                    }
                }
                let timer = Task {
                    guard (try? await Task.sleep(for: limit)) != nil else { return }
                    race.finish(.failure(expired), byWork: false)
                }
                race.own([worker, timer])
            }
        } onCancel: {
            race.finish(.failure(CancellationError()), byWork: false)
        }
    }

    /// Keeps the caller's continuation, or resumes it at once when the race is decided; returns
    /// whether the race is still open.
    private func wait(with continuation: CheckedContinuation<Value, any Error>) -> Bool {
        let decided: Result<Value, any Error>? = state.withLock { state in
            guard let outcome = state.outcome else {
                state.continuation = continuation
                return nil
            }
            return outcome
        }
        guard let decided else { return true }
        continuation.resume(with: decided)
        return false
    }

    /// Keeps the tasks to cancel once the race is decided; cancels them at once if it is.
    private func own(_ tasks: [Task<Void, Never>]) {
        let decided = state.withLock { state in
            state.tasks = tasks
            return state.outcome != nil
        }
        if decided { tasks.forEach { $0.cancel() } }
    }

    /// Decides the race with `outcome` unless it is decided.
    private func finish(_ outcome: Result<Value, any Error>, byWork: Bool) {
        let decided: (CheckedContinuation<Value, any Error>?, [Task<Void, Never>])? = state.withLock { state in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        guard let (continuation, tasks) = decided else { return }
        if !byWork { abandon() }
        continuation?.resume(with: outcome)
        tasks.forEach { $0.cancel() }
    }
}
