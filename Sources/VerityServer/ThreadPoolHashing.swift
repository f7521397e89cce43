//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOPosix
import VerityCore

/// Runs hashing on threads of its own, one per core: never on an event loop, and never on the
/// Swift tasks' shared threads, which keep moving other requests along while secrets are hashed.
/// The ``HashingPool`` in front of it decides how much work is admitted and how much may wait.
final class ThreadPoolHashing: HashingExecutor {
    private let threads: NIOThreadPool

    init(threads count: Int) {
        threads = NIOThreadPool(numberOfThreads: max(1, count))
        threads.start()
    }

    func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await threads.runIfActive(work)
    }

    func shutdown() async throws {
        try await threads.shutdownGracefully()
    }
}
