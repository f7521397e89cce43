//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import Synchronization

/// The address a server listens on, once it does: waiters are resumed when it is bound, not
/// by polling.
final class ListeningAddress: Sendable {
    private struct State {
        var address: SocketAddress?
        var waiters: [Int: CheckedContinuation<SocketAddress, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Records the bound address and resumes everyone waiting for it.
    func bound(to address: SocketAddress) {
        let waiters = state.withLock { state in
            state.address = address
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: address) }
    }

    /// The address, as soon as the server is bound, or a `CancellationError` after `timeout`.
    func wait(timeout: Duration) async throws -> SocketAddress {
        if let address = state.withLock({ $0.address }) { return address }
        return try await withThrowingTaskGroup(of: SocketAddress.self) { group in
            group.addTask { try await self.waitForBinding() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw CancellationError()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func waitForBinding() async throws -> SocketAddress {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let address = state.withLock { state -> SocketAddress? in
                    if state.address == nil { state.waiters[id] = continuation }
                    return state.address
                }
                if let address { continuation.resume(returning: address) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
