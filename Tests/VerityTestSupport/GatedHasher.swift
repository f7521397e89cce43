//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

/// A hasher whose work waits at a gate until the test opens it: what is queued behind it, and
/// what is refused, no longer depends on how fast a KDF runs.
package final class GatedHasher: SecretHashing, @unchecked Sendable {
    private let inner: any SecretHashing
    private let condition = NSCondition()
    private var open = false
    private var waiting = 0

    package init(_ inner: any SecretHashing) {
        self.inner = inner
    }

    /// How many jobs wait at the gate.
    package var waitingJobs: Int { condition.withLock { waiting } }

    package func openGate() {
        condition.withLock {
            open = true
            condition.broadcast()
        }
    }

    private func pass() {
        condition.withLock {
            waiting += 1
            while !open { condition.wait() }
            waiting -= 1
        }
    }

    package func hash(_ secret: String) throws -> String {
        pass()
        return try inner.hash(secret)
    }

    package func verify(_ secret: String, against encoded: String) throws -> SecretMatch {
        pass()
        return try inner.verify(secret, against: encoded)
    }

    package func performDecoyVerification(of secret: String) {
        pass()
        inner.performDecoyVerification(of: secret)
    }
}
