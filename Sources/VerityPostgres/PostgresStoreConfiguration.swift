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
/// unverified), `require` (TLS, unverified) or `verify-full` (TLS, the server's certificate
/// checked against `sslrootcert`, or the system's roots, and its name). A password left out of
/// the URL is read from `PGPASSWORD`, so that it need not appear in a command line.
package struct PostgresStoreConfiguration: Sendable, CustomStringConvertible {
    package var client: PostgresClient.Configuration
    /// How long a write waits for the write lock before it fails as busy.
    package var lockTimeout: TimeInterval = 10
    /// How long a call waits for a pooled connection before it fails as unavailable.
    package var acquireTimeout: TimeInterval = 5
    /// The URL without its password, for logs.
    package let description: String

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
        let password = components.password ?? environment["PGPASSWORD"]
        client = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: password, database: database,
            tls: try Self.tls(mode: options["sslmode"] ?? "prefer", rootCertificate: options["sslrootcert"])
        )
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
    }

    private static let knownOptions: Set<String> = ["sslmode", "sslrootcert", "pool_max", "connect_timeout"]

    private static func tls(mode: String, rootCertificate: String?) throws -> PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch mode {
        case "disable": return .disable
        case "prefer": return .prefer(unverified)
        case "require": return .require(unverified)
        case "verify-full":
            var verified = TLSConfiguration.makeClientConfiguration()
            if let rootCertificate { verified.trustRoots = .file(rootCertificate) }
            return .require(verified)
        default:
            throw InvalidPostgresURLError(problem: "sslmode must be disable, prefer, require or verify-full")
        }
    }
}

/// A store URL that cannot be used; the problem never repeats the password.
package struct InvalidPostgresURLError: Error, CustomStringConvertible {
    package let problem: String
    package var description: String { "invalid PostgreSQL store URL: \(problem)" }
}
