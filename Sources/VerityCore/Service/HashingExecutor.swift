//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Where the CPU-heavy work of hashing runs.
///
/// A server runs it on threads of its own, so that the threads that move requests along are
/// never all busy inside a KDF; a library user or a test can run it inline.
package protocol HashingExecutor: Sendable {
    func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value
}

/// Runs hashing on the calling task.
package struct InlineHashing: HashingExecutor {
    package init() {}

    package func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try work()
    }
}
