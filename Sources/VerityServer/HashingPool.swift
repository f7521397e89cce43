//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import Synchronization
import VerityProtocol

/// Admission to the work that hashes secrets: at most `concurrency` jobs run at once, at most
/// `queueLimit` wait, and a job whose deadline passes while it waits never starts.
///
/// The pool only admits: the hashing itself runs on the threads of ``ThreadPoolHashing``, never
/// on a NIO event loop nor on Swift's cooperative threads, so connections and cheap calls keep
/// being served while secrets are hashed. When the queue is full the request is refused with
/// RESOURCE_EXHAUSTED instead of growing memory.
public actor HashingPool {
    public let concurrency: Int
    public let queueLimit: Int
    /// The most jobs one caller (certificate CN) may have waiting: a fair share of the queue,
    /// so that one busy or hostile caller cannot keep every other caller's checks out.
    public let queueSharePerCaller: Int
    private var running = 0
    private var waiting: [(id: Int, owner: HashingOwner, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextWaiterID = 0
    private var load = HashingLoad()
    private let metrics: ServerMetrics

    public init(concurrency: Int, queueLimit: Int, queueSharePerCaller: Int? = nil, metrics: ServerMetrics) {
        self.concurrency = max(1, concurrency)
        self.queueLimit = max(0, queueLimit)
        self.queueSharePerCaller = max(1, queueSharePerCaller ?? max(1, queueLimit / 4))
        self.metrics = metrics
    }

    /// Runs `job` once a place is free, unless `deadline` passes first.
    ///
    /// - Throws: RESOURCE_EXHAUSTED when the queue is full, or too long for the job to be done
    ///   within its deadline at the pace the pool has measured (`DEADLINE_UNREACHABLE`, with
    ///   `retryAfterMs`); DEADLINE_EXCEEDED when the deadline passes before the job starts. In
    ///   each case the job has not run and changed nothing.
    public func run<Value: Sendable>(
        deadline: NIODeadline,
        owner: HashingOwner,
        _ job: @Sendable () async throws -> Value
    ) async throws -> Value {
        try await admit(deadline: deadline, owner: owner)
        defer { release() }
        guard !owner.connection.isClosed else { throw RPCError(.cancelled, "the connection closed before the work started") }
        guard NIODeadline.now() < deadline else { throw RPCError(.deadlineExceeded, "the deadline passed before the work started") }
        let started = ContinuousClock.now
        defer { load.record(jobSeconds: Self.seconds(ContinuousClock.now - started)) }
        return try await job()
    }

    public var queueDepth: Int { waiting.count }

    /// Drops the waiting jobs of a connection that closed: nobody will read their answers.
    /// Jobs already running finish, so that no check is left half-recorded.
    public func cancelWaiting(of connection: ConnectionLiveness) {
        let cancelled = waiting.filter { $0.owner.connection === connection }
        waiting.removeAll { $0.owner.connection === connection }
        for job in cancelled { job.continuation.resume(throwing: RPCError(.cancelled, "the connection closed before the work started")) }
        metrics.hashingQueueDepth.record(waiting.count)
    }

    private func admit(deadline: NIODeadline, owner: HashingOwner) async throws {
        // Work of a connection that closed before it got here is not queued at all.
        guard !owner.connection.isClosed else { throw RPCError(.cancelled, "the connection closed before the work started") }
        if running < concurrency, waiting.isEmpty {
            running += 1
            return
        }
        try refuseIfTooLate(deadline: deadline, ahead: waiting.count)
        guard waiting.count < queueLimit else {
            throw RPCError(.resourceExhausted, "the hashing queue is full; retry later", details: ["reason": "HASHING_QUEUE_FULL"])
        }
        guard waiting.count(where: { $0.owner.caller == owner.caller }) < queueSharePerCaller else {
            throw RPCError(
                .resourceExhausted, "this caller already has \(queueSharePerCaller) checks waiting; retry later",
                details: ["reason": "CALLER_QUEUE_SHARE"]
            )
        }
        let id = nextWaiterID
        nextWaiterID += 1
        let timeout = Task { [weak self] in
            try await Task.sleep(for: .nanoseconds(max(0, (deadline - .now()).nanoseconds)))
            await self?.expire(id)
        }
        defer { timeout.cancel() }
        try await withCheckedThrowingContinuation { continuation in
            waiting.append((id, owner, continuation))
            metrics.hashingQueueDepth.record(waiting.count)
        }
    }

    /// Refuses at once a job that would wait behind `ahead` others and could not then be done
    /// before `deadline` at the measured pace. A job that finds a place free is never refused:
    /// it is served, and so the pace keeps being measured even when every waiting job is refused.
    private func refuseIfTooLate(deadline: NIODeadline, ahead: Int) throws {
        let remaining = Double((deadline - .now()).nanoseconds) / 1e9
        guard let wait = load.refusal(ahead: ahead, concurrency: concurrency, remainingSeconds: remaining) else { return }
        let retryAfterMs = Int64((wait * 1000).rounded(.up))
        throw RPCError(
            .resourceExhausted, "the hashing queue cannot serve this request within its deadline; retry in \(retryAfterMs) ms",
            details: ["reason": "DEADLINE_UNREACHABLE", "retryAfterMs": .integer(retryAfterMs)]
        )
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            // The place passes straight to the next job; `running` stays the same.
            waiting.removeFirst().continuation.resume()
            metrics.hashingQueueDepth.record(waiting.count)
        }
    }

    private func expire(_ id: Int) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: RPCError(.deadlineExceeded, "the deadline passed while the work waited for the hashing pool"))
        metrics.hashingQueueDepth.record(waiting.count)
    }
}

/// Whose job waits for the hashing pool: the connection it came on and the caller (certificate CN).
public struct HashingOwner: Sendable {
    public var connection: ConnectionLiveness
    public var caller: String

    public init(connection: ConnectionLiveness, caller: String) {
        self.connection = connection
        self.caller = caller
    }
}

/// Whether a connection is still open, for work that outlives the event loop's view of it: the
/// hashing pool drops the work of a closed connection, whether it is already queued or not yet.
public final class ConnectionLiveness: Sendable {
    private let closed = Mutex(false)

    public init() {}

    public var isClosed: Bool { closed.withLock { $0 } }

    public func close() {
        closed.withLock { $0 = true }
    }
}
