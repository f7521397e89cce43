//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import VerityCrypto
@testable import VerityServer
import VerityTLS
import VerityTestSupport

/// A real `VerityServer` on an ephemeral loopback port, with a fresh development PKI, pepper
/// and store in a temporary directory, a cheap KDF, and captured logs.
final class TestServer: Sendable {
    let directory: TemporaryDirectory
    let setup: DevelopmentSetup
    let server: VerityServer
    let logs: LogCapture
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    var pki: DevelopmentPKI { setup.pki }

    /// Connections the server has open now.
    var openConnections: Int { server.openConnections }

    static func start(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await start(hasher: { $0 }, adjust)
    }

    /// - Parameters:
    ///   - clock: the service's time, which the test may move.
    ///   - hasher: wraps the server's hasher, such as in a ``GatedHasher``.
    static func start(
        clock: ServiceClock = ServiceClock(),
        hasher wrap: @escaping @Sendable (any SecretHashing) -> any SecretHashing = { $0 },
        _ adjust: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let directory = try TemporaryDirectory("verity-server")
        let setup = try DevelopmentSetup.ensure(in: directory.url.appendingPathComponent("data"))
        var configuration = setup.configuration()
        configuration.port = 0
        configuration.keyDerivation = .scrypt(logN: 4, r: 1, p: 1)
        configuration.derivationBounds = .lowCostForTests
        // The whole suite shares two cores: a handshake may wait its turn for seconds.
        configuration.handshakeTimeout = .seconds(60)
        adjust(&configuration)
        return try await TestServer(directory: directory, setup: setup, configuration: configuration, clock: clock, wrap: wrap)
    }

    /// A new server on this one's data and configuration, which must have stopped, with `clock`:
    /// a restart after downtime.
    func restart(clock: ServiceClock) async throws -> TestServer {
        try await TestServer(directory: directory, setup: setup, configuration: server.configuration, clock: clock, wrap: wrap)
    }

    private let wrap: @Sendable (any SecretHashing) -> any SecretHashing

    private init(
        directory: TemporaryDirectory, setup: DevelopmentSetup, configuration: ServerConfiguration, clock: ServiceClock,
        wrap: @escaping @Sendable (any SecretHashing) -> any SecretHashing
    ) async throws {
        self.directory = directory
        self.setup = setup
        self.wrap = wrap
        logs = LogCapture()
        let logger = logs.logger(label: "verityd")
        server = try VerityServer(configuration: configuration, logger: logger, metrics: ServerMetrics(), clock: clock) { keyring in
            wrap(PepperedSecretHasher(keyring: keyring, derivation: configuration.keyDerivation, bounds: configuration.derivationBounds))
        }
        group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        let group = self.group
        task = Task { try await group.run() }
        port = try await server.waitUntilListening().port!
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// A connection authenticated as `role`, which may be any OU the PKI issued.
    func connect(as role: String? = "admin", alpn: [String] = [TLSConfiguration.alpnProtocol], issuer: DevelopmentPKI? = nil) async throws -> TestConnection {
        try await TestConnection.open(port: port, pki: pki, role: role, issuer: issuer, alpn: alpn)
    }
}

extension TestServer {
    /// A connection with a certificate from the server's own CA whose OU is `role`, which need
    /// not be a Verity role.
    func connectWithExtraRole(_ role: String) async throws -> TestConnection {
        let caKey = try PrivateKey(pem: try String(contentsOfFile: pki.directory.appendingPathComponent("ca-key.pem").path, encoding: .utf8))
        let ca = try Certificate(pem: try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8))
        let key = try PrivateKey.generateP256()
        let certificate = try Certificate.issue(
            name: .init(commonName: "dev-\(role)", organizationalUnit: role), publicKey: key, profile: .client,
            validDays: 1, issuer: ca, issuerKey: caKey
        )
        let extra = directory.url.appendingPathComponent("extra-\(role)")
        try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
        try certificate.pem().write(toFile: extra.appendingPathComponent("\(role).pem").path, atomically: true, encoding: .utf8)
        try key.pem().write(toFile: extra.appendingPathComponent("\(role)-key.pem").path, atomically: true, encoding: .utf8)
        return try await connect(as: role, issuer: DevelopmentPKI(existingIn: extra))
    }
}
