//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Configuration
import Foundation
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import VerityCrypto
import VerityProtocol
import VerityServer

/// `verityd`: the Verity credential service.
@main
struct Verityd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verityd",
        abstract: "The Verity credential service: PIN and password checks over mutual TLS.",
        discussion: """
            With no certificate flags (or with --dev), verityd runs in development mode, on loopback \
            only: it keeps everything in --data-dir (./.verity), making on the first run a pepper \
            keyring, a SQLite store and a development PKI whose client certificates (one per role) \
            are in DATA_DIR/pki. Without the certificates, --pepper, a listen address other than \
            loopback and any --store but a postgres:// URL whose host is loopback (so that \
            development instances on this machine can share one database) are refused rather \
            than run in development mode.

            In production, name the server certificate, its key and the client CA with --cert, \
            --key and --client-ca, and an existing pepper keyring with --pepper. Every flag has an \
            environment variable, named in its help; a flag wins over its variable.

            SIGTERM or SIGINT stops verityd gracefully: it stops accepting connections, answers \
            the requests already received, refuses new ones with UNAVAILABLE, closes every \
            connection with a TLS close_notify, closes the store and exits 0.

            Every setting is read from the first of: its flag; its environment variable (named in its \
            help); a file named by its key in --secrets-dir (VERITY_TLS_CERT is the file tls-cert), as \
            container platforms mount secrets; its key in the JSON file --config (VERITY_TLS_CERT is \
            {"tls": {"cert": ...}}); its default.

            `verityd keys` inspects and rotates the pepper keyring (see `verityd keys --help`).
            """,
        subcommands: [KeysCommand.self]
    )

    @Option(help: "JSON configuration file: each setting under its key, VERITY_TLS_CERT as {\"tls\": {\"cert\": ...}} [VERITY_CONFIG_FILE].")
    var config: String?

    @Option(help: "Directory of files, one per setting, named by its key: VERITY_TLS_CERT as tls-cert [VERITY_SECRETS_DIR].")
    var secretsDir: String?

    @Option(help: "Address to serve on, HOST:PORT [VERITY_LISTEN]. Default 127.0.0.1:7443.")
    var listen: String?

    @Option(help: "Data directory for development mode and the default store [VERITY_DATA_DIR]. Default ./.verity.")
    var dataDir: String?

    @Option(help: "Server certificate chain, PEM [VERITY_TLS_CERT].")
    var cert: String?

    @Option(help: "Server private key, PEM [VERITY_TLS_KEY].")
    var key: String?

    @Option(help: "The CA(s) that issue client certificates directly, PEM: the issuing intermediate, not its root [VERITY_CLIENT_CA].")
    var clientCa: String?

    @Option(help: "Revocation lists of the client CAs, PEM; checked for every client certificate [VERITY_CLIENT_CRL].")
    var clientCrl: String?

    @Option(help: "The store [VERITY_STORE]: a SQLite file (default DATA_DIR/verity.sqlite), or postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full for several instances on one PostgreSQL database (development mode: on loopback only); password from PGPASSWORD.")
    var store: String?

    @Option(help: "Pepper keyring file, mode 0600 [VERITY_PEPPER_FILE]. Default DATA_DIR/pepper.json (made in development mode).")
    var pepper: String?

    @Option(help: "KDF for new hashes: scrypt, or pbkdf2 for FIPS deployments [VERITY_KDF]. Default scrypt.")
    var kdf: String?

    @Option(help: "scrypt cost: N = 2^VALUE [VERITY_SCRYPT_LOG_N]. Default 15.")
    var scryptLogN: Int?

    @Option(help: "PBKDF2-HMAC-SHA256 iterations [VERITY_PBKDF2_ITERATIONS]. Default 600000.")
    var pbkdf2Iterations: Int?

    @Option(help: "Largest frame in bytes [VERITY_MAX_FRAME_BYTES]. Default 65536.")
    var maxFrameBytes: Int?

    @Option(help: "Most open connections [VERITY_MAX_CONNECTIONS]. Default 10000.")
    var maxConnections: Int?

    @Option(help: "Most requests in flight per connection [VERITY_MAX_IN_FLIGHT]. Default 256.")
    var maxInFlight: Int?

    @Option(help: "Seconds a TLS handshake may take [VERITY_HANDSHAKE_TIMEOUT]. Default 5.")
    var handshakeTimeout: Int?

    @Option(help: "Most connections still in their TLS handshake [VERITY_MAX_HANDSHAKING]. Default 256.")
    var maxHandshaking: Int?

    @Option(help: "Most connections per caller (certificate CN) [VERITY_MAX_CONNECTIONS_PER_CALLER]. Default 1000.")
    var maxConnectionsPerCaller: Int?

    @Option(help: "Most requests in flight per caller, over its connections [VERITY_MAX_IN_FLIGHT_PER_CALLER]. Default 4096.")
    var maxInFlightPerCaller: Int?

    @Option(help: "Security and code checks per minute per caller [VERITY_CHECKS_PER_MINUTE_PER_CALLER]. Default 6000.")
    var checksPerMinutePerCaller: Int?

    @Option(help: "One-time codes issued per minute per caller [VERITY_CODES_PER_MINUTE_PER_CALLER]. Default 600.")
    var codesPerMinutePerCaller: Int?

    @Option(help: "Locks by one caller within 10 minutes that log a LOCK ALARM [VERITY_LOCK_ALARM_THRESHOLD]. Default 20.")
    var lockAlarmThreshold: Int?

    @Option(help: "Days a recovery request waits for a copy of an identity document before it expires [VERITY_RECOVERY_REQUEST_DAYS]. Default 14.")
    var recoveryRequestDays: Int?

    @Option(help: "Seconds a half-received frame may stall [VERITY_READ_TIMEOUT]. Default 30.")
    var readTimeout: Int?

    @Option(help: "Seconds an idle connection is kept [VERITY_IDLE_TIMEOUT]. Default 300.")
    var idleTimeout: Int?

    @Option(help: "Deadline in ms of requests that name none [VERITY_DEFAULT_DEADLINE_MS]. Default 10000.")
    var defaultDeadlineMs: Int?

    @Option(help: "Longest deadline in ms honoured [VERITY_MAX_DEADLINE_MS]. Default 60000.")
    var maxDeadlineMs: Int?

    @Option(help: "Secrets hashed at once [VERITY_HASHING_THREADS]. Default: the number of cores.")
    var hashingThreads: Int?

    @Option(help: "Hashing jobs allowed to wait before RESOURCE_EXHAUSTED [VERITY_HASHING_QUEUE]. Default 1024.")
    var hashingQueue: Int?

    @Option(help: "Seconds a graceful shutdown waits for requests in flight [VERITY_GRACE_PERIOD]. Default 10.")
    var gracePeriod: Int?

    @Option(help: "Prometheus metrics address HOST:PORT, or 'off' [VERITY_METRICS_LISTEN]. Default 127.0.0.1:9464.")
    var metricsListen: String?

    @Flag(help: "Refuse TLS 1.2; accept TLS 1.3 only [VERITY_TLS13_ONLY=1].")
    var tls13Only = false

    @Flag(help: "Development mode, as with no certificate flags: refused with --cert, --key, --client-ca, --pepper, a listen address other than loopback, or a --store other than a postgres:// URL on loopback [VERITY_DEV=1].")
    var dev = false

    @Flag(help: "Development mode only: print outbox messages, one-time codes included, to standard output instead of leaving them for a notifier [VERITY_PRINT_NOTIFICATIONS=1].")
    var printNotifications = false

    @Flag(help: "Development mode only: serve verity.v1.Development/AdvanceClock, which moves the service's clock forward so that a change request's seven-day waits can be watched (verityctl dev advance-clock) [VERITY_DEV_CLOCK=1].")
    var devClock = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error [VERITY_LOG_LEVEL]. Default info.")
    var logLevel: String?

    func run() async throws {
        try ProcessHardening.apply()
        let environment = ProcessInfo.processInfo.environment
        let reader = try await Settings.reader(
            environment: environment, configFile: config ?? environment["VERITY_CONFIG_FILE"],
            secretsDirectory: secretsDir ?? environment["VERITY_SECRETS_DIR"]
        )
        let settings = Settings(command: self, reader: reader)
        var logger = Logger(label: "verityd")
        logger.logLevel = try settings.logLevel()
        let level = logger.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let configuration = try settings.serverConfiguration(logger: logger)
        let server = try VerityServer(configuration: configuration, logger: logger)
        var services: [any Service] = [server]
        if let (host, port) = try settings.metricsAddress() {
            services.append(MetricsEndpoint(registry: registry, host: host, port: port, logger: logger))
        }
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
