//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL store is and how it connects, read from a URL in libpq's form:
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH&pool_max=N&connect_timeout=S]
///
/// `sslmode` is `disable`, `prefer` (the default, as with libpq: TLS when the server offers it,
/// unverified), `require` (TLS, unverified; with `sslrootcert`, verified as `verify-ca`, as
/// libpq does), `verify-ca` (TLS, the server's certificate chained to `sslrootcert`, which it
/// needs: the system's roots vouch for anyone) or `verify-full` (chained to `sslrootcert` or the
/// system's roots, and naming the host). Only a verified server keeps a password from a man in
/// the middle (``verifiesServer``): production `verityd` requires one for a database on another
/// machine. A password left out of the URL is read from `PGPASSWORD`, so that it
/// need not appear in a command line.
package struct PostgresStoreConfiguration: Sendable, CustomStringConvertible {
    package var client: PostgresClient.Configuration
    /// How long a write waits for the write lock before it fails as busy.
    package var lockTimeout: TimeInterval = 10 {
        didSet { applySessionSettings() }
    }
    /// How long a call waits for a pooled connection before it fails as unavailable; also the
    /// connect timeout (`connect_timeout`).
    package var acquireTimeout: TimeInterval = 5
    /// The longest a statement may run, and a transaction may sit idle, before the server ends
    /// the session: an instance that stalls while it holds the write lock cannot hold up the others.
    package var statementTimeout: TimeInterval = 30 {
        didSet { applySessionSettings() }
    }
    /// The longest this side waits for a transaction, or any other use of a connection, to
    /// finish; past it the connection is closed. The server's timeouts end a session that stalls,
    /// but cannot end this side's wait for an answer lost with the network. Longer than the lock
    /// wait and a statement together, so that it ends only what the server cannot.
    package var transactionTimeout: TimeInterval = 45

    /// The longest a write can take before it fails: its turn among this instance's writes
    /// (at most ``lockTimeout``), a connection (``acquireTimeout``), then its transaction.
    package var longestWrite: TimeInterval { lockTimeout + acquireTimeout + transactionTimeout }
    /// The URL without its password, for logs.
    package let description: String
    /// Whether TLS to the database verifies the server's certificate (`verify-ca`, `verify-full`,
    /// or `require` with `sslrootcert`): only then can no one in between read the password or
    /// change what the store holds.
    package let verifiesServer: Bool

    /// Whether `location` names a PostgreSQL store rather than a SQLite file.
    package static func isPostgresURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// - Throws: ``InvalidPostgresURLError`` saying which part is wrong; it never repeats a password.
    package init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isPostgresURL(url), let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw InvalidPostgresURLError(problem: "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let user = components.user, !user.isEmpty else { throw InvalidPostgresURLError(problem: "the URL names no user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw InvalidPostgresURLError(problem: "the URL names no database") }
        let options = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
        for name in options.keys where !Self.knownOptions.contains(name) {
            throw InvalidPostgresURLError(problem: "unknown option \(name); known: \(Self.knownOptions.sorted().joined(separator: ", "))")
        }
        let mode = options["sslmode"] ?? "prefer"
        verifiesServer = ["verify-ca", "verify-full"].contains(mode) || (mode == "require" && options["sslrootcert"] != nil)
        let password = components.password ?? environment["PGPASSWORD"]
        client = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: password, database: database,
            tls: try Self.tls(mode: mode, rootCertificate: options["sslrootcert"])
        )
        client.options.connectTimeout = .seconds(Int(acquireTimeout))
        if let maximum = options["pool_max"] {
            guard let count = Int(maximum), (1...500).contains(count) else { throw InvalidPostgresURLError(problem: "pool_max must be 1 to 500") }
            client.options.maximumConnections = count
        }
        if let timeout = options["connect_timeout"] {
            guard let seconds = Int(timeout), (1...300).contains(seconds) else {
                throw InvalidPostgresURLError(problem: "connect_timeout must be 1 to 300 seconds")
            }
            client.options.connectTimeout = .seconds(seconds)
            acquireTimeout = TimeInterval(seconds)
        }
        var shown = components
        shown.password = nil
        description = shown.string ?? "postgres://\(host)"
        applySessionSettings()
    }

    /// The settings of every session, sent when it starts (no statement per transaction):
    ///
    /// - commits wait for the WAL flush, whatever the server's default;
    /// - a write waits at most ``lockTimeout`` for the write lock, then fails as busy;
    /// - a statement may run, and a transaction sit idle, at most ``statementTimeout``: an
    ///   instance that stalls while it holds the write lock loses its session, and the lock,
    ///   instead of holding every instance up;
    /// - the server notices a peer that vanishes without a word (a frozen machine, a cut
    ///   network) in seconds, not after the system's two hours, and ends its session and its
    ///   lock (this side's wait is bounded by ``transactionTimeout``).
    private mutating func applySessionSettings() {
        func milliseconds(_ interval: TimeInterval) -> String { "\(Int(interval * 1000))ms" }
        client.options.additionalStartupParameters = [
            ("synchronous_commit", "on"), ("lock_timeout", milliseconds(lockTimeout)),
            ("statement_timeout", milliseconds(statementTimeout)), ("idle_in_transaction_session_timeout", milliseconds(statementTimeout)),
            ("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"), ("tcp_keepalives_count", "3"),
        ]
    }

    private static let knownOptions: Set<String> = ["sslmode", "sslrootcert", "pool_max", "connect_timeout"]

    private static func tls(mode: String, rootCertificate: String?) throws -> PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        var verified = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { verified.trustRoots = .file(rootCertificate) }
        var chainOnly = verified
        chainOnly.certificateVerification = .noHostnameVerification
        switch mode {
        case "disable": return .disable
        case "prefer": return .prefer(unverified)
        case "require": return .require(rootCertificate == nil ? unverified : chainOnly)
        case "verify-ca":
            // The system's roots vouch for anyone's certificate for any name: with the host
            // unchecked, that verifies nothing (libpq refuses it too).
            guard rootCertificate != nil else { throw InvalidPostgresURLError(problem: "sslmode=verify-ca needs sslrootcert (or use verify-full)") }
            return .require(chainOnly)
        case "verify-full": return .require(verified)
        default:
            throw InvalidPostgresURLError(problem: "sslmode must be disable, prefer, require, verify-ca or verify-full")
        }
    }
}

/// A store URL that cannot be used; the problem never repeats the password.
package struct InvalidPostgresURLError: Error, CustomStringConvertible {
    package let problem: String
    package var description: String { "invalid PostgreSQL store URL: \(problem)" }
}
