//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
@testable import VerityPostgres

/// The race that answers a store call by its deadline, and the fence that keeps a COMMIT from
/// going out after its caller gave up.
@Suite("The deadline race")
struct DeadlineRaceTests {
    struct Expired: Error {}

    /// Whether something happened, and what else had happened by then.
    final class Marks: Sendable {
        private let marks = Mutex<Set<String>>([])
        func mark(_ name: String) { marks.withLock { _ = $0.insert(name) } }
        func has(_ name: String) -> Bool { marks.withLock { $0.contains(name) } }
    }

    @Test func workThatNeverAnswersIsAbandonedBeforeTheCallerHearsTheDeadline() async throws {
        let marks = Marks()
        let (never, _) = AsyncStream.makeStream(of: Void.self)
        do {
            _ = try await DeadlineRace<Int>.run(within: .milliseconds(50), expired: Expired(), abandon: { marks.mark("abandoned") }) {
                for await _ in never {}
                return 1
            }
            Issue.record("the race answered with the work's value")
        } catch is Expired {
            // The connection must be closed before the caller gives its lease back.
            #expect(marks.has("abandoned"))
        }
    }

    @Test func workThatAnswersInTimeIsNotAbandoned() async throws {
        let marks = Marks()
        let value = try await DeadlineRace<Int>.run(within: .seconds(30), expired: Expired(), abandon: { marks.mark("abandoned") }) { 7 }
        #expect(value == 7)
        #expect(!marks.has("abandoned"))
    }

    @Test func aCallerAlreadyCancelledNeverStartsTheWork() async throws {
        let marks = Marks()
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await DeadlineRace<Int>.run(within: .seconds(30), expired: Expired(), abandon: { marks.mark("abandoned") }) {
                marks.mark("started")
                return 1
            }
        }
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(!marks.has("started"))
        #expect(marks.has("abandoned"))
    }

    @Test func noCommitGoesOutOnceTheCallerGaveUp() {
        let abandoned = PendingCommit<Int>()
        #expect(abandoned.unansweredOrAbandoned() == nil)
        #expect(!abandoned.sendingCommit(1, transaction: 42), "a COMMIT after the caller heard nothing was written")

        let sent = PendingCommit<Int>()
        #expect(sent.sendingCommit(1, transaction: 42))
        #expect(sent.unansweredOrAbandoned().map { [$0.0, Int($0.1)] } == [1, 42], "a COMMIT that went out is looked up")
    }
}
