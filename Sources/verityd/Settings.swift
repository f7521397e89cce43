//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Configuration
import SystemPackage
import Foundation
import Logging
import NIOCore
import VerityCrypto
import VerityPostgres
import VerityServer

/// The settings of `verityd`, each from the first of: its flag, its environment variable
/// (`VERITY_TLS_CERT`), a file named by its key in the secrets directory (`tls-cert`, as
/// container platforms mount secrets), its key in the JSON configuration file (`tls.cert`),
/// and its default. swift-configuration reads all but the flags, which swift-argument-parser
/// keeps, with their `--help`.
struct Settings {
    let command: Verityd
    let reader: ConfigReader

    /// The sources below the flags: the environment, then `secretsDirectory`, then `configFile`.
    static func reader(environment: [String: String], configFile: String?, secretsDirectory: String?) async throws -> ConfigReader {
        var providers: [any ConfigProvider] = [
            KeyMappingProvider(upstream: EnvironmentVariablesProvider(environmentVariables: environment)) { key in
                AbsoluteConfigKey(["verity"] + key.components, context: key.context)
            },
        ]
        if let secretsDirectory {
            providers.append(try await DirectoryFilesProvider(directoryPath: FilePath(secretsDirectory)))
        }
        if let configFile {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile)))
        }
        return ConfigReader(providers: providers)
    }

    /// The configuration key of an environment variable: `VERITY_TLS_CERT` is `tls.cert`.
    static func key(_ variable: String) -> ConfigKey {
        ConfigKey(variable.dropFirst("VERITY_".count).lowercased().split(separator: "_").map(String.init))
    }

    func string(_ flag: String?, _ variable: String) -> String? {
        flag ?? reader.string(forKey: Self.key(variable)).flatMap { $0.isEmpty ? nil : $0 }
    }

    func integer(_ flag: Int?, _ variable: String) throws -> Int? {
        if let flag { return flag }
        if let value = reader.int(forKey: Self.key(variable)) { return value }
        guard let text = reader.string(forKey: Self.key(variable)), !text.isEmpty else { return nil }
        throw ValidationError("\(variable) (\(Self.key(variable))) must be an integer, not \(text)")
    }

    /// A switch: its flag, or `1`/`true` from the other sources.
    func flag(_ flag: Bool, _ variable: String) -> Bool {
        flag || reader.bool(forKey: Self.key(variable)) == true || reader.string(forKey: Self.key(variable)) == "1"
    }

    func logLevel() throws -> Logger.Level {
        let text = string(command.logLevel, "VERITY_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: text) else { throw ValidationError("unknown log level \(text)") }
        return level
    }

    func metricsAddress() throws -> (String, Int)? {
        let text = string(command.metricsListen, "VERITY_METRICS_LISTEN") ?? "127.0.0.1:9464"
        return text == "off" ? nil : try Self.hostAndPort(text, flag: "--metrics-listen")
    }

    func serverConfiguration(logger: Logger) throws -> ServerConfiguration {
        let dataDirectory = URL(fileURLWithPath: string(command.dataDir, "VERITY_DATA_DIR") ?? ".verity")
        let listen = string(command.listen, "VERITY_LISTEN") ?? "127.0.0.1:7443"
        var configuration = try tlsAndFiles(dataDirectory: dataDirectory, listen: listen, logger: logger)
        (configuration.host, configuration.port) = try Self.hostAndPort(listen, flag: "--listen")
        configuration.keyDerivation = try keyDerivation()
        configuration.clientCRLPath = string(command.clientCrl, "VERITY_CLIENT_CRL")
        configuration.allowTLS12 = !flag(command.tls13Only, "VERITY_TLS13_ONLY")
        func seconds(_ value: Int?) -> TimeAmount? { value.map { .seconds(Int64($0)) } }
        func milliseconds(_ value: Int?) -> TimeAmount? { value.map { .milliseconds(Int64($0)) } }
        configuration.maximumFrameBytes = try integer(command.maxFrameBytes, "VERITY_MAX_FRAME_BYTES") ?? configuration.maximumFrameBytes
        configuration.maximumConnections = try integer(command.maxConnections, "VERITY_MAX_CONNECTIONS") ?? configuration.maximumConnections
        configuration.maximumInFlightPerConnection = try integer(command.maxInFlight, "VERITY_MAX_IN_FLIGHT") ?? configuration.maximumInFlightPerConnection
        configuration.handshakeTimeout = try seconds(integer(command.handshakeTimeout, "VERITY_HANDSHAKE_TIMEOUT")) ?? configuration.handshakeTimeout
        configuration.checksPerMinutePerCaller = try integer(command.checksPerMinutePerCaller, "VERITY_CHECKS_PER_MINUTE_PER_CALLER")
            ?? configuration.checksPerMinutePerCaller
        configuration.codesPerMinutePerCaller = try integer(command.codesPerMinutePerCaller, "VERITY_CODES_PER_MINUTE_PER_CALLER")
            ?? configuration.codesPerMinutePerCaller
        configuration.lockAlarmThreshold = try integer(command.lockAlarmThreshold, "VERITY_LOCK_ALARM_THRESHOLD") ?? configuration.lockAlarmThreshold
        if let days = try integer(command.recoveryRequestDays, "VERITY_RECOVERY_REQUEST_DAYS") {
            guard (1...365).contains(days) else { throw ValidationError("--recovery-request-days must be 1 to 365") }
            configuration.recoveryRequestLifetime = .hours(Int64(days) * 24)
        }
        configuration.maximumHandshaking = try integer(command.maxHandshaking, "VERITY_MAX_HANDSHAKING") ?? configuration.maximumHandshaking
        configuration.maximumConnectionsPerCaller = try integer(command.maxConnectionsPerCaller, "VERITY_MAX_CONNECTIONS_PER_CALLER")
            ?? configuration.maximumConnectionsPerCaller
        configuration.maximumInFlightPerCaller = try integer(command.maxInFlightPerCaller, "VERITY_MAX_IN_FLIGHT_PER_CALLER")
            ?? configuration.maximumInFlightPerCaller
        configuration.readTimeout = try seconds(integer(command.readTimeout, "VERITY_READ_TIMEOUT")) ?? configuration.readTimeout
        configuration.idleTimeout = try seconds(integer(command.idleTimeout, "VERITY_IDLE_TIMEOUT")) ?? configuration.idleTimeout
        configuration.defaultDeadline = try milliseconds(integer(command.defaultDeadlineMs, "VERITY_DEFAULT_DEADLINE_MS")) ?? configuration.defaultDeadline
        configuration.maximumDeadline = try milliseconds(integer(command.maxDeadlineMs, "VERITY_MAX_DEADLINE_MS")) ?? configuration.maximumDeadline
        configuration.hashingConcurrency = try integer(command.hashingThreads, "VERITY_HASHING_THREADS") ?? configuration.hashingConcurrency
        configuration.hashingQueueLimit = try integer(command.hashingQueue, "VERITY_HASHING_QUEUE") ?? configuration.hashingQueueLimit
        configuration.shutdownGracePeriod = try seconds(integer(command.gracePeriod, "VERITY_GRACE_PERIOD")) ?? configuration.shutdownGracePeriod
        guard configuration.maximumFrameBytes >= 1024 else { throw ValidationError("--max-frame-bytes must be at least 1024") }
        return configuration
    }

    /// Development mode when no certificate is named (or `--dev`); production mode when all three are.
    ///
    /// Development mode is refused with anything that says production (a store, a keyring, an
    /// address others can reach): a mistyped production command line must fail, not quietly
    /// serve with a throw-away PKI and print one-time codes.
    private func tlsAndFiles(dataDirectory: URL, listen: String, logger: Logger) throws -> ServerConfiguration {
        let cert = string(command.cert, "VERITY_TLS_CERT")
        let key = string(command.key, "VERITY_TLS_KEY")
        let clientCA = string(command.clientCa, "VERITY_CLIENT_CA")
        let store = string(command.store, "VERITY_STORE")
        let pepper = string(command.pepper, "VERITY_PEPPER_FILE")
        let development = flag(command.dev, "VERITY_DEV")
        let printNotifications = flag(command.printNotifications, "VERITY_PRINT_NOTIFICATIONS")
        let movableClock = flag(command.devClock, "VERITY_DEV_CLOCK")
        switch (cert, key, clientCA) {
        case (nil, nil, nil):
            try Self.checkDevelopment(store: store, pepper: pepper, listen: listen)
            try ProcessHardening.checkPrivate(directory: dataDirectory)
            let setup = try DevelopmentSetup.ensure(in: dataDirectory)
            var configuration = setup.configuration()
            if let store { configuration.storePath = store }
            configuration.developmentConsoleSink = printNotifications
            configuration.developmentClock = movableClock
            announce(setup, listen: listen)
            return configuration
        case let (cert?, key?, clientCA?):
            guard !development else { throw ValidationError("--dev cannot be combined with --cert, --key and --client-ca") }
            guard !printNotifications else { throw ValidationError("--print-notifications is for development mode only: production hands messages to a notifier") }
            guard !movableClock else { throw ValidationError("--dev-clock is for development mode only: a production clock is never moved") }
            guard let pepper else { throw ValidationError("production mode needs --pepper (or VERITY_PEPPER_FILE): an existing keyring, mode 0600") }
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let storePath = store ?? dataDirectory.appendingPathComponent("verity.sqlite").path
            if PostgresStoreConfiguration.isPostgresURL(storePath) {
                try Self.checkVerified(postgres: storePath)
            } else {
                try ProcessHardening.checkPrivate(directory: URL(fileURLWithPath: storePath).deletingLastPathComponent())
            }
            return ServerConfiguration(
                certificateChainPath: cert, privateKeyPath: key, clientCAPath: clientCA,
                storePath: storePath, pepperKeyringPath: pepper
            )
        default:
            throw ValidationError("name all of --cert, --key and --client-ca (production), or none of them (development)")
        }
    }

    /// Refuses what only production may name, in development mode. A PostgreSQL store on this
    /// machine is allowed, so that two development instances can share one database.
    static func checkDevelopment(store: String?, pepper: String?, listen: String) throws {
        let localPostgres = try store.map { location in
            try PostgresStoreConfiguration.isPostgresURL(location) && isLoopback(PostgresStoreConfiguration(url: location).client.host ?? "")
        } ?? false
        if (store != nil && !localPostgres) || pepper != nil {
            throw ValidationError(
                "--store and --pepper are production settings; development mode keeps its own in --data-dir (or a postgres:// store on loopback). For production, name --cert, --key and --client-ca too"
            )
        }
        let (host, _) = try hostAndPort(listen, flag: "--listen")
        guard isLoopback(host) else {
            throw ValidationError(
                "development mode serves on loopback only (its keys lie unprotected on disk); --listen \(listen) needs --cert, --key and --client-ca"
            )
        }
    }

    /// Refuses a production PostgreSQL store on another machine whose server is not verified:
    /// whoever sits in between could read the password and rewrite failure counts.
    static func checkVerified(postgres location: String) throws {
        let postgres = try PostgresStoreConfiguration(url: location)
        guard postgres.verifiesServer || isLoopback(postgres.client.host ?? "") else {
            throw ValidationError(
                "the PostgreSQL store \(postgres) is on another machine: name sslmode=verify-full (or verify-ca with sslrootcert), so that no one in between can read the password or change the store"
            )
        }
    }

    /// Whether `host` is this machine: `localhost`, `::1` or 127.x.y.z.
    static func isLoopback(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { UInt8($0) }
        return ["::1", "localhost"].contains(host) || (parts.count == 4 && octets.count == 4 && octets[0] == 127)
    }

    private func announce(_ setup: DevelopmentSetup, listen: String) {
        let pki = setup.pki.directory.path
        let announcement = """
            verityd: development mode\(setup.created ? " (first run: made a pepper keyring and a development PKI)" : "")
              data:                \(setup.dataDirectory.path)
              CA certificate:      \(pki)/ca.pem
              client certificates: \(pki)/{verifier,ivr,agent,notifier,admin}.pem, keys in ROLE-key.pem
              try it:              openssl s_client -connect \(listen) -cert \(pki)/admin.pem -key \(pki)/admin-key.pem -CAfile \(pki)/ca.pem -alpn verity/1
            These certificates are for this machine only; see certs/README.md for production.

            """
        FileHandle.standardOutput.write(Data(announcement.utf8))
    }

    private func keyDerivation() throws -> KeyDerivation {
        switch string(command.kdf, "VERITY_KDF") ?? "scrypt" {
        case "scrypt":
            let logN = try integer(command.scryptLogN, "VERITY_SCRYPT_LOG_N") ?? 15
            guard (10...18).contains(logN) else { throw ValidationError("--scrypt-log-n must be 10 to 18") }
            return .scrypt(logN: logN, r: 8, p: 1)
        case "pbkdf2":
            let iterations = try integer(command.pbkdf2Iterations, "VERITY_PBKDF2_ITERATIONS") ?? 600_000
            guard DerivationBounds.service.pbkdf2Iterations.contains(iterations) else {
                throw ValidationError("--pbkdf2-iterations must be 600000 to 5000000 (OWASP's floor for PBKDF2-HMAC-SHA256)")
            }
            return .pbkdf2SHA256(iterations: iterations)
        case let other:
            throw ValidationError("unknown --kdf \(other): use scrypt or pbkdf2")
        }
    }

    static func hostAndPort(_ text: String, flag: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ValidationError("\(flag) takes HOST:PORT, not \(text)")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
