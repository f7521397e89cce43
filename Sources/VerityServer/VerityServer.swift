//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import Synchronization
import VerityCore
import VerityCrypto
import VerityProtocol
import VerityTLS
import VerityTransport

/// The Verity service: mutual TLS on SwiftNIO, the framed JSON protocol, the role table and
/// the credential core, run as a swift-service-lifecycle `Service`.
///
/// Each connection's pipeline is TLS, idle and read timeouts, the frame codec, then the
/// ``ConnectionHandler``, which hands each request to the ``RequestExecutor``. A graceful
/// shutdown stops accepting, lets connections answer what they have (new requests get
/// UNAVAILABLE), closes them with close_notify, and closes the store.
public final class VerityServer: Service, Sendable {
    public let configuration: ServerConfiguration
    private let store: ServerStore
    private let keyring: PepperKeyring
    private let service: CredentialService
    private let hashingThreads: ThreadPoolHashing
    private let tls: TLSContext
    private let executor: RequestExecutor
    private let registry: ConnectionRegistry
    private let logger: Logger
    private let address = ListeningAddress()
    private let clock: ServiceClock
    private let metrics: ServerMetrics

    /// Opens the store, loads the pepper keyring and the TLS certificates.
    ///
    /// - Throws: when any of them cannot be used; the message says which and why.
    public convenience init(configuration: ServerConfiguration, logger: Logger = Logger(label: "verityd"), metrics: ServerMetrics = ServerMetrics()) throws {
        try self.init(configuration: configuration, logger: logger, metrics: metrics) { keyring in
            PepperedSecretHasher(keyring: keyring, derivation: configuration.keyDerivation, bounds: configuration.derivationBounds)
        }
    }

    /// - Parameters:
    ///   - clock: the service's time; tests pass one that runs ahead.
    ///   - makeHasher: the hasher of secrets for a keyring; tests pass one they can hold.
    init(
        configuration: ServerConfiguration,
        logger: Logger,
        metrics: ServerMetrics,
        clock: ServiceClock = ServiceClock(),
        makeHasher: (PepperKeyring) -> any SecretHashing
    ) throws {
        for (setting, interval) in [("timedStepInterval", configuration.timedStepInterval), ("outboxExpiryInterval", configuration.outboxExpiryInterval)]
        where interval <= .zero {
            throw InvalidConfigurationError(setting: setting, rule: "positive")
        }
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        var tlsConfiguration = TLSConfiguration.server(
            certificateChainPath: configuration.certificateChainPath, privateKeyPath: configuration.privateKeyPath,
            clientCAPath: configuration.clientCAPath
        )
        tlsConfiguration.allowTLS12 = configuration.allowTLS12
        tlsConfiguration.handshakeTimeout = configuration.handshakeTimeout
        tlsConfiguration.revocationListPath = configuration.clientCRLPath
        tls = try TLSContext(tlsConfiguration)
        keyring = try PepperKeyring.load(from: configuration.pepperKeyringPath)
        store = try ServerStore.open(configuration.storePath, keyring: keyring, logger: logger)
        var rules = CredentialService.Configuration()
        rules.attemptLimit = configuration.attemptLimit
        rules.recoveryRequestLifetime = Double(configuration.recoveryRequestLifetime.nanoseconds) / 1e9
        // A live check finishes within its deadline, two KDF runs and two store writes.
        rules.longestCheck = Double(configuration.maximumDeadline.nanoseconds) / 1e9 + 2 * store.writeWaitLimit + 30
        hashingThreads = ThreadPoolHashing(threads: configuration.hashingConcurrency)
        service = try CredentialService(
            store: store.credentialStore, hasher: makeHasher(keyring),
            keyring: keyring, hashing: hashingThreads, configuration: rules, logger: logger, now: clock.now
        )
        let pool = HashingPool(
            concurrency: configuration.hashingConcurrency, queueLimit: configuration.hashingQueueLimit,
            queueSharePerCaller: configuration.hashingQueueSharePerCaller, metrics: metrics
        )
        executor = RequestExecutor(
            service: service, pool: pool, configuration: configuration, metrics: metrics,
            developmentClock: configuration.developmentClock ? clock : nil, logger: logger
        )
        registry = ConnectionRegistry(
            maximum: configuration.maximumConnections, maximumHandshaking: configuration.maximumHandshaking,
            maximumPerCaller: configuration.maximumConnectionsPerCaller, maximumRequestsPerCaller: configuration.maximumInFlightPerCaller,
            metrics: metrics
        )
    }

    /// Serves until a graceful shutdown is triggered (SIGTERM or SIGINT under a `ServiceGroup`).
    public func run() async throws {
        do {
            try await store.prepare()
            try await checkKeys()
        } catch {
            try? await store.close()
            throw error
        }
        let quiescing = ServerQuiescingHelper(group: MultiThreadedEventLoopGroup.singleton)
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Past 256 KiB of unsent answers a connection is not writable, and is not read from.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in self.initialize(channel) }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        if let bound = serverChannel.localAddress { address.bound(to: bound) }
        logger.notice("serving", metadata: ["address": "\(serverChannel.localAddress.map { "\($0)" } ?? "?")"])
        let sink = configuration.developmentConsoleSink ? Task { await DevelopmentConsoleSink(service: service, logger: logger).run() } : nil
        let expiry = Task { await eraseExpiredDeliveries() }
        let scheduler = Task { await takeTimedSteps() }
        // A graceful shutdown stops accepting and tells every connection to finish what is in
        // flight, refuse anything new, then close (ChannelShouldQuiesceEvent).
        try await withGracefulShutdownHandler {
            try await serverChannel.closeFuture.get()
        } onGracefulShutdown: {
            quiescing.initiateShutdown(promise: nil)
        }
        sink?.cancel()
        expiry.cancel()
        scheduler.cancel()
        await scheduler.value
        await drainConnections(quiescing, on: serverChannel.eventLoop)
        try await hashingThreads.shutdown()
        try await store.close()
        logger.notice("stopped")
    }

    /// Logs which pepper keys and KDF parameters the stored data uses, and refuses to serve when
    /// the keyring lacks one: every check against such a hash would count as a failure.
    private func checkKeys() async throws {
        let inventory = try await service.keyInventory()
        for line in inventory.lines { logger.notice("stored data uses", metadata: ["usage": "\(line)"]) }
        let missing = inventory.keysMissing(from: keyring)
        guard missing.isEmpty else { throw MissingPepperKeysError(keyIDs: missing, keyringPath: configuration.pepperKeyringPath) }
    }

    /// Connections open now, for tests and diagnostics.
    var openConnections: Int { registry.count }

    /// The address the server listens on, as soon as it does.
    public func waitUntilListening(timeout: Duration = .seconds(30)) async throws -> SocketAddress {
        try await address.wait(timeout: timeout)
    }

    private func initialize(_ channel: Channel) -> EventLoopFuture<Void> {
        guard registry.admit(channel) else {
            logger.warning("connection refused: the connection or handshake limit is reached", metadata: [
                "connections": "\(configuration.maximumConnections)", "handshaking": "\(configuration.maximumHandshaking)",
            ])
            return channel.close()
        }
        return channel.eventLoop.makeCompletedFuture {
            let progress = FrameProgress()
            var connectionLogger = logger
            connectionLogger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
            try channel.pipeline.syncOperations.addTransportHandlers(
                tls: tls, limits: FrameLimits(maximumFrameBytes: configuration.maximumFrameBytes), progress: progress,
                idleTimeout: configuration.idleTimeout
            )
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
                executor: executor, registry: registry, progress: progress, maximumInFlight: configuration.maximumInFlightPerConnection,
                readTimeout: configuration.readTimeout, logger: connectionLogger
            ))
        }
    }

    /// Erases undelivered content once it expires, whether or not any notifier leases.
    private func eraseExpiredDeliveries() async {
        while !Task.isCancelled {
            do {
                try await service.expireDeliveries()
            } catch {
                logger.warning("expired deliveries could not be erased; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .nanoseconds(configuration.outboxExpiryInterval.nanoseconds))
        }
    }

    /// Takes the change requests' timed steps that fell due: at once, catching up on any that fell
    /// due while no server ran, then on a timer; and reports the caseworkers' backlog.
    private func takeTimedSteps() async {
        while !Task.isCancelled {
            do {
                metrics.timedSteps.increment(by: try await service.takeDueSteps())
                let backlog = try await service.workflowBacklog()
                metrics.overdueChangeRequests.record(backlog.overdueChangeRequests)
                metrics.pendingLinkRequests.record(backlog.pendingLinkRequests)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("timed steps could not be taken; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .nanoseconds(configuration.timedStepInterval.nanoseconds))
        }
    }

    /// Waits until every connection has closed after answering its requests in flight, for
    /// at most the grace period; then closes what is left.
    private func drainConnections(_ quiescing: ServerQuiescingHelper, on loop: EventLoop) async {
        let drained = loop.makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: drained)
        await everyConnectionHasBeenToldToDrain(serverLoop: loop)
        logger.notice("shutting down: finishing requests in flight", metadata: ["connections": "\(registry.count)"])
        let grace = Duration.nanoseconds(configuration.shutdownGracePeriod.nanoseconds)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await drained.futureResult.get() }
            group.addTask { try? await Task.sleep(for: grace) }
            await group.next()
            group.cancelAll()
        }
        registry.closeAll()
        // The promise is kept until every connection is gone, forced or not.
        try? await drained.futureResult.get()
    }

    /// Returns once every connection has handled its `ChannelShouldQuiesceEvent`, so that from the
    /// "shutting down" line on, every new request is refused. The helper tells the connections
    /// from the server's loop, each on its own loop: a task queued behind on each loop comes after.
    private func everyConnectionHasBeenToldToDrain(serverLoop: EventLoop) async {
        try? await serverLoop.submit {}.get()
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            try? await loop.submit {}.get()
        }
    }
}

/// The store holds data made with pepper keys the keyring does not have.
public struct MissingPepperKeysError: Error, CustomStringConvertible {
    public let keyIDs: [String]
    public let keyringPath: String
    public var description: String {
        "the store holds data made with pepper key(s) \(keyIDs.joined(separator: ", ")), which the keyring \(keyringPath) lacks; restore them to the keyring (verityd keys inventory lists what the store uses)"
    }
}
