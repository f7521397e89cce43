//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import Synchronization
import Testing
import VerityProtocol
import VerityTestSupport

@testable import VerityServer

/// Admission by the measured pace: a request that cannot be answered within its deadline is
/// refused at once, with the time after which a retry can expect a place.
@Suite("Hashing admission by pace")
struct HashingAdmissionTests {
    @Test func theAverageFollowsRecentJobs() {
        var load = HashingLoad()
        #expect(load.refusal(ahead: 100, concurrency: 1, remainingSeconds: 0.001) == nil, "no estimate before the first job")
        load.record(jobSeconds: 1)
        #expect(load.typicalJobSeconds == 1)
        load.record(jobSeconds: 2)
        #expect(load.typicalJobSeconds == 1.2)
        // An outlier counts for four times the average at most.
        var steady = HashingLoad()
        steady.record(jobSeconds: 0.3)
        steady.record(jobSeconds: 10)
        #expect(steady.typicalJobSeconds! < 0.49)
        // Two places: the first two waiting jobs wait one job's time, the third two.
        #expect(load.expectedWait(ahead: 0, concurrency: 2) == 1.2)
        #expect(load.expectedWait(ahead: 1, concurrency: 2) == 1.2)
        #expect(load.expectedWait(ahead: 2, concurrency: 2) == 2.4)
        // With a margin: wait and work may fill 85% of the time left.
        #expect(load.refusal(ahead: 1, concurrency: 2, remainingSeconds: 2.9) == nil)
        #expect(load.refusal(ahead: 1, concurrency: 2, remainingSeconds: 2.7) == 1.2)
        #expect(load.refusal(ahead: 2, concurrency: 2, remainingSeconds: 2.9) == 2.4)
    }

    /// A job that finds a place free runs, whatever the pace says: otherwise a slow average
    /// would refuse every short deadline on an idle pool, and nothing would run to correct it.
    @Test func aFreePlaceIsNeverRefused() async throws {
        let pool = HashingPool(concurrency: 1, queueLimit: 10, metrics: ServerMetrics())
        let owner = HashingOwner(connection: ConnectionLiveness(), caller: "ivr")
        try await pool.run(deadline: .now() + .seconds(30), owner: owner) { try await Task.sleep(for: .milliseconds(200)) }
        #expect(try await pool.run(deadline: .now() + .milliseconds(50), owner: owner) { 7 } == 7)
    }

    @Test func aRequestThatWouldMissItsDeadlineIsRefusedAtOnce() async throws {
        let pool = HashingPool(concurrency: 1, queueLimit: 10, metrics: ServerMetrics())
        let owner = HashingOwner(connection: ConnectionLiveness(), caller: "ivr")
        // One job of 100 ms teaches the pool its pace.
        try await pool.run(deadline: .now() + .seconds(30), owner: owner) { try await Task.sleep(for: .milliseconds(100)) }
        let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holder = Task {
            try await pool.run(deadline: .now() + .seconds(30), owner: owner) {
                await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
            }
        }
        try await waitUntil { release.withLock { $0 != nil } }
        // The only place is taken: a job with 50 ms left would wait about 100 ms and take 100 ms.
        let asked = ContinuousClock.now
        do {
            try await pool.run(deadline: .now() + .milliseconds(50), owner: owner) {}
            Issue.record("a job that could not finish in time was admitted")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.details["reason"] == "DEADLINE_UNREACHABLE")
            #expect((error.details["retryAfterMs"]?.integerValue ?? 0) >= 100)
        }
        #expect(ContinuousClock.now - asked < .seconds(5), "the refusal waited instead of coming at once")
        // With time to spare, it waits for its turn and runs.
        let patient = Task { try await pool.run(deadline: .now() + .seconds(30), owner: owner) { 7 } }
        try await waitUntil { await pool.queueDepth == 1 }
        release.withLock { $0?.resume() }
        #expect(try await patient.value == 7)
        try await holder.value
    }
}
