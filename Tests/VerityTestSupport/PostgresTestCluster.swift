//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import NIOPosix
import PostgresNIO
import VerityCore
import VerityCrypto
import VerityPostgres

/// The PostgreSQL server of the tests: the one `VERITY_TEST_POSTGRES_URL` names (`.ci/run` starts
/// it), or else one `scripts/postgres-cluster` starts for this test process, which goes when the
/// process ends. Each test gets a database of its own on it.
///
/// When neither can be had, the tests that need it are skipped, and say why (``unavailableReason``),
/// never silently.
package enum PostgresTestCluster {
    /// The URL of the cluster's `verity` database, or why there is none.
    package static let location: Result<String, PostgresUnavailable> = locate()

    package static var isAvailable: Bool { (try? location.get()) != nil }

    /// The message a skipped test carries.
    package static var unavailableReason: String {
        if case let .failure(reason) = location { return "no PostgreSQL for this test: \(reason.message)" }
        return ""
    }

    /// How long a test's store waits for a connection, unless its URL says otherwise: the
    /// production default of 5 s is too short on a machine whose cores run every suite at once,
    /// where a TLS connection once took longer to open (a test about the timeout names its own).
    package static let patientConnectTimeout = "connect_timeout=30"

    /// The URL of a new, empty database on the cluster, with ``patientConnectTimeout``.
    package static func makeDatabase() async throws -> String {
        let base = try location.get()
        let name = "verity_test_" + SecureRandom.bytes(count: 8).map { String(format: "%02x", $0) }.joined()
        try await withSession(base) { session in try await session.run("CREATE DATABASE \(name)") }
        let configuration = try PostgresStoreConfiguration(url: base)
        var components = URLComponents(string: url(base, options: patientConnectTimeout))
        components?.path = "/\(name)"
        guard let database = components?.string else { throw PostgresUnavailable(message: "cannot name a database on \(configuration)") }
        return database
    }

    /// Runs `body` with a connection of its own on the database at `url`: what someone with
    /// database access could do, beside the store. A plain connection, not a pool, so that it
    /// is there before `body` runs.
    package static func withSession<Value: Sendable>(_ url: String, _ body: @Sendable (AdminSession) async throws -> Value) async throws -> Value {
        let configuration = try PostgresStoreConfiguration(url: url)
        let client = configuration.client
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: PostgresConnection.Configuration(
                host: client.host ?? "127.0.0.1", port: client.port ?? 5432, username: client.username, password: client.password,
                database: client.database, tls: .disable
            ),
            id: 1, logger: Logger(label: "test.postgres")
        ).get()
        do {
            let value = try await body(AdminSession(connection: connection))
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A prepared store on a new database, and the database's URL for more instances.
    package static func makeStore(keyring: PepperKeyring, lockTimeout: TimeInterval? = nil) async throws -> (store: PostgresCredentialStore, url: String) {
        let url = try await makeDatabase()
        return (try await openStore(url, keyring: keyring, lockTimeout: lockTimeout), url)
    }

    /// Another prepared instance on the database at `url`.
    package static func openStore(_ url: String, keyring: PepperKeyring, lockTimeout: TimeInterval? = nil) async throws -> PostgresCredentialStore {
        var configuration = try PostgresStoreConfiguration(url: url)
        if let lockTimeout { configuration.lockTimeout = lockTimeout }
        let store = PostgresCredentialStore(configuration: configuration, keyring: keyring, logger: Logger(label: "test.postgres"))
        do {
            try await store.prepare()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    private static func locate() -> Result<String, PostgresUnavailable> {
        if let url = ProcessInfo.processInfo.environment["VERITY_TEST_POSTGRES_URL"], !url.isEmpty { return .success(url) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/postgres-cluster")
        // popen, not Foundation's Process: its wait needs a run loop that a test process whose
        // threads are all busy may never turn.
        guard let pipe = popen("'\(script.path)' start --watch \(getpid()) 2>&1", "r") else {
            return .failure(PostgresUnavailable(message: "\(script.path) could not run"))
        }
        var printed = ""
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), pipe) != nil { printed += String(cString: line) }
        let status = pclose(pipe)
        let url = printed.split(separator: "\n").first { $0.hasPrefix("VERITY_TEST_POSTGRES_URL=") }
            .map { String($0.dropFirst("VERITY_TEST_POSTGRES_URL=".count)) }
        guard status == 0, let url else {
            let reason = PostgresUnavailable(
                message: "scripts/postgres-cluster start failed (\(status)): \(printed.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
            FileHandle.standardError.write(Data("warning: PostgreSQL tests skipped: \(reason.message)\n".utf8))
            return .failure(reason)
        }
        return .success(url)
    }

    /// The name of the database a test URL names.
    package static func databaseName(of url: String) -> String {
        String((URLComponents(string: url)?.path ?? "").drop { $0 == "/" })
    }

    /// The URL with `options` (`sslmode=require`, say) in place of the options it names; the
    /// URL's other options stay.
    package static func url(_ url: String, options: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        let replacements = URLComponents(string: "?" + options)?.queryItems ?? []
        let kept = (components.queryItems ?? []).filter { item in !replacements.contains { $0.name == item.name } }
        components.queryItems = kept + replacements
        return components.string ?? url
    }
}

/// Why the tests have no PostgreSQL.
package struct PostgresUnavailable: Error, Sendable {
    package let message: String
}

/// One connection for a test's own statements.
package struct AdminSession: Sendable {
    package let connection: PostgresConnection

    /// Runs `sql` and reads its rows to the end, where an error that strikes while it runs shows.
    package func run(_ sql: String) async throws {
        for try await _ in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test.postgres")) {}
    }

    /// The first column of every row `sql` returns, decoded.
    package func values<Value: PostgresDecodable>(_ sql: String, _ type: Value.Type) async throws -> [Value] {
        var values: [Value] = []
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test.postgres")).decode(Value.self) {
            values.append(value)
        }
        return values
    }
}
