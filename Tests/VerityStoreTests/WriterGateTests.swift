//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import VerityCore
import VerityTestSupport
@testable import VerityPostgres

/// One write of an instance at a time: in order, for a bounded wait, and cancellable.
@Suite("The writer gate")
struct WriterGateTests {
    /// Who is inside, and the most that ever were at once.
    final class Occupancy: Sendable {
        private let counts = Mutex((inside: 0, most: 0, order: [Int]()))

        func enter(_ writer: Int) {
            counts.withLock { counts in
                counts.inside += 1
                counts.most = max(counts.most, counts.inside)
                counts.order.append(writer)
            }
        }

        func leave() { counts.withLock { $0.inside -= 1 } }
        var most: Int { counts.withLock { $0.most } }
        var order: [Int] { counts.withLock { $0.order } }
    }

    @Test func writersRunOneAtATimeInTheOrderTheyArrived() async throws {
        let gate = WriterGate()
        let occupancy = Occupancy()
        let (opened, open) = AsyncStream.makeStream(of: Void.self)
        // The first holds the gate until the others queue behind it, one after another.
        let first = Task {
            try await gate.withTurn(waitingAtMost: .seconds(30)) {
                occupancy.enter(0)
                for await _ in opened { break }
                occupancy.leave()
            }
        }
        try await waitUntil { occupancy.order == [0] }
        var queued: [Task<Void, any Error>] = []
        for writer in 1...20 {
            queued.append(Task {
                try await gate.withTurn(waitingAtMost: .seconds(30)) {
                    occupancy.enter(writer)
                    await Task.yield()
                    occupancy.leave()
                }
            })
            try await waitUntil { gate.waitingCount == writer }
        }
        open.yield()
        try await first.value
        for task in queued { try await task.value }
        #expect(occupancy.most == 1)
        #expect(occupancy.order == Array(0...20))
    }

    @Test func aWriterWhoseTurnDoesNotComeInTimeIsBusyAndTheNextGoesOn() async throws {
        let gate = WriterGate()
        let (opened, open) = AsyncStream.makeStream(of: Void.self)
        let holder = Task { try await gate.withTurn(waitingAtMost: .seconds(30)) { for await _ in opened { break } } }
        try await waitUntil { gate.isHeld }
        await #expect { try await gate.withTurn(waitingAtMost: .milliseconds(50)) {} } throws: { error in
            (error as? StoreFailure)?.kind == .busy
        }
        let next = Task { try await gate.withTurn(waitingAtMost: .seconds(30)) { 7 } }
        try await waitUntil { gate.waitingCount == 1 }
        open.yield()
        try await holder.value
        #expect(try await next.value == 7)
        #expect(!gate.isHeld)
    }

    @Test func aCancelledWriterLeavesTheQueueAndTheNextGoesOn() async throws {
        let gate = WriterGate()
        let (opened, open) = AsyncStream.makeStream(of: Void.self)
        let holder = Task { try await gate.withTurn(waitingAtMost: .seconds(30)) { for await _ in opened { break } } }
        try await waitUntil { gate.isHeld }
        let cancelled = Task { try await gate.withTurn(waitingAtMost: .seconds(30)) { "ran" } }
        try await waitUntil { gate.waitingCount == 1 }
        let next = Task { try await gate.withTurn(waitingAtMost: .seconds(30)) { "next" } }
        try await waitUntil { gate.waitingCount == 2 }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(gate.waitingCount == 1)
        open.yield()
        try await holder.value
        #expect(try await next.value == "next")
        #expect(!gate.isHeld)
    }

    @Test func aWriterThatThrowsPassesItsTurnOn() async throws {
        struct Refused: Error {}
        let gate = WriterGate()
        await #expect(throws: Refused.self) { try await gate.withTurn(waitingAtMost: .seconds(1)) { throw Refused() } }
        #expect(try await gate.withTurn(waitingAtMost: .seconds(1)) { 1 } == 1)
    }
}
