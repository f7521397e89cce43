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
/// the work runs in a task of its own, and when the deadline comes first the caller hears
/// `expired`, the work is cancelled, and `afterExpiry` runs (closing the connection), while a
/// work that ignores all that is left behind rather than waited for.
final class DeadlineRace<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var outcome: Result<Value, any Error>?
        var isFinished = false
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    private init() {}

    /// What `work` returns or throws, or `expired` once `limit` has passed.
    static func run(
        within limit: Duration,
        expired: any Error,
        afterExpiry: @escaping @Sendable () async -> Void,
        _ work: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let race = DeadlineRace()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.wait(with: continuation)
                let worker = Task {
                    do {
                        race.finish(.success(try await work()))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                let timer = Task {
                    guard (try? await Task.sleep(for: limit)) != nil, race.finish(.failure(expired)) else { return }
                    await afterExpiry()
                }
                race.own([worker, timer])
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    private func wait(with continuation: CheckedContinuation<Value, any Error>) {
        let ready: Result<Value, any Error>? = state.withLock { state in
            guard let outcome = state.outcome else {
                state.continuation = continuation
                return nil
            }
            return outcome
        }
        if let ready { continuation.resume(with: ready) }
    }

    /// Keeps the tasks to cancel once the race is decided; cancels them at once if it is.
    private func own(_ tasks: [Task<Void, Never>]) {
        let decided = state.withLock { state in
            state.tasks = tasks
            return state.isFinished
        }
        if decided { tasks.forEach { $0.cancel() } }
    }

    /// Decides the race with `outcome` unless it is decided; returns whether this decided it.
    @discardableResult
    private func finish(_ outcome: Result<Value, any Error>) -> Bool {
        let decided: (CheckedContinuation<Value, any Error>?, [Task<Void, Never>])? = state.withLock { state in
            guard !state.isFinished else { return nil }
            state.isFinished = true
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        guard let (continuation, tasks) = decided else { return false }
        continuation?.resume(with: outcome)
        tasks.forEach { $0.cancel() }
        return true
    }
}
