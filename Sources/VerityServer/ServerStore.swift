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

/// The store a server runs on: the embedded SQLite file (one instance), or a PostgreSQL database
/// that several instances share. ``ServerConfiguration/storePath`` says which: a
/// `postgres://` URL, or a file path.
enum ServerStore: Sendable {
    case sqlite(SQLiteCredentialStore)
    case postgres(PostgresCredentialStore)

    /// Opens the SQLite file now; a PostgreSQL store connects in ``prepare()``.
    static func open(_ location: String, keyring: PepperKeyring, logger: Logger) throws -> ServerStore {
        guard PostgresStoreConfiguration.isPostgresURL(location) else {
            return .sqlite(try SQLiteCredentialStore(path: location, keyring: keyring))
        }
        let configuration = try PostgresStoreConfiguration(url: location)
        logger.notice("store", metadata: ["postgres": "\(configuration)"])
        return .postgres(PostgresCredentialStore(configuration: configuration, keyring: keyring, logger: logger))
    }

    var credentialStore: any CredentialStore {
        switch self {
        case let .sqlite(store): store
        case let .postgres(store): store
        }
    }

    /// The longest a write may take before it fails: waiting for other writers, and on
    /// PostgreSQL for a connection and the transaction's answer.
    var writeWaitLimit: TimeInterval {
        switch self {
        case .sqlite: SQLiteCredentialStore.busyTimeout
        case let .postgres(store): store.configuration.longestWrite
        }
    }

    /// Connects, checks durability and migrates, where the store has not done so on opening.
    func prepare() async throws {
        if case let .postgres(store) = self { try await store.prepare() }
    }

    func close() async throws {
        switch self {
        case let .sqlite(store): try store.close()
        case let .postgres(store): await store.close()
        }
    }
}
