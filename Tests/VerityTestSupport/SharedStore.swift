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
import VerityCrypto
import VerityPostgres
import VerityStore

/// The storage engines the conformance suite runs every guarantee against.
package enum StoreEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    package var description: String { rawValue }
}

/// Several instances of one engine's store on one database, as several servers open it: each its
/// own connection (SQLite) or its own pool (PostgreSQL), on the same file or database.
package final class SharedStore: Sendable {
    package let engine: StoreEngine
    package let instances: [any CredentialStore]
    private let directory: TemporaryDirectory?
    /// The database of a PostgreSQL store, for another instance or a raw look.
    package let postgresURL: String?

    private init(engine: StoreEngine, instances: [any CredentialStore], directory: TemporaryDirectory?, postgresURL: String?) {
        self.engine = engine
        self.instances = instances
        self.directory = directory
        self.postgresURL = postgresURL
    }

    /// Opens `count` instances on a new database.
    ///
    /// - Throws: ``PostgresUnavailable`` for PostgreSQL when no server could be had.
    package static func open(_ engine: StoreEngine, instances count: Int = 2, keyring: PepperKeyring) async throws -> SharedStore {
        switch engine {
        case .sqlite:
            let directory = try TemporaryDirectory()
            let stores = try (0..<count).map { _ in try SQLiteCredentialStore(path: directory.path("verity.sqlite"), keyring: keyring) }
            return SharedStore(engine: engine, instances: stores, directory: directory, postgresURL: nil)
        case .postgres:
            let url = try await PostgresTestCluster.makeDatabase()
            var stores: [any CredentialStore] = []
            for _ in 0..<count { stores.append(try await PostgresTestCluster.openStore(url, keyring: keyring)) }
            return SharedStore(engine: engine, instances: stores, directory: nil, postgresURL: url)
        }
    }

    /// One service per instance, sharing a hasher (so that every instance can check what another
    /// hashed) and a clock.
    package func services(hasher: CountingHasher, configuration: CredentialService.Configuration = .init(), now: @escaping @Sendable () -> Date = { Date() }) throws -> [CredentialService] {
        try instances.map { store in
            try CredentialService(
                store: store, hasher: hasher, keyring: hasher.keyring, configuration: configuration,
                logger: Logger(label: "test.quiet") { _ in SwiftLogNoOpLogHandler() }, now: now
            )
        }
    }

    /// Closes every instance.
    package func close() async {
        for store in instances {
            if let store = store as? SQLiteCredentialStore { try? store.close() }
            if let store = store as? PostgresCredentialStore { await store.close() }
        }
    }
}
