//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import VerityCore
import Synchronization
import VerityStore

/// What most tests need: a service over a real SQLite store in a temporary directory, with a
/// counting hasher and captured logs.
package struct ServiceFixture: Sendable {
    package let directory: TemporaryDirectory
    package let store: SQLiteCredentialStore
    package let hasher: CountingHasher
    package let logs: LogCapture
    package let service: CredentialService

    package init(
        hasher: CountingHasher? = nil,
        configuration: CredentialService.Configuration = .init(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        directory = try TemporaryDirectory()
        self.hasher = try hasher ?? CountingHasher()
        store = try SQLiteCredentialStore(path: directory.path("verity.sqlite"), keyring: self.hasher.keyring)
        logs = LogCapture()
        service = try CredentialService(
            store: store, hasher: self.hasher, keyring: self.hasher.keyring, configuration: configuration, logger: logs.logger(), now: now
        )
    }

    /// The path of the SQLite file; its WAL and shared-memory files sit beside it.
    package var databasePath: String { directory.path("verity.sqlite") }

    /// Enrols a client and sets the given details.
    @discardableResult
    package func activeClient(_ id: String = "case-1234567/PWC", pin: String? = "4829157", password: String? = nil) async throws -> SubjectID {
        let subject = try SubjectID(id)
        _ = try await service.enroll(subject, kind: .client, context: .agent)
        _ = try await service.setSecurityDetails(subject, SecurityFactors(pin: pin, password: password), context: .agent)
        return subject
    }
}

extension CallContext {
    package static let agent = CallContext(caller: "casework-system", role: "agent", actor: "agent:4711")
    package static let verifier = CallContext(caller: "portal", role: "verifier")
    package static let admin = CallContext(caller: "ops-console", role: "admin", actor: "admin:1")
}

/// Waits until `condition` holds, checking every few milliseconds, or fails after `timeout`
/// (by default long enough for a machine running every suite at once, where 10 s was seen to
/// pass before a hash finished).
package func waitUntil(
    timeout: Duration = .seconds(30),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut() }
        try await Task.sleep(for: .milliseconds(5))
    }
}

package struct TimedOut: Error {
    package init() {}
}

/// A clock that stands still until a test moves it.
package final class TestClock: Sendable {
    private let current: Mutex<Date>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    package var now: Date { current.withLock { $0 } }

    package func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// The clock as a use case's `now` closure.
    package var closure: @Sendable () -> Date { { self.now } }
}
