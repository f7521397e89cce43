//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import VerityCrypto

/// Everything `verityd` can be told: where to listen, which certificates, keys, store and
/// pepper to use, and every limit.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 7443 by default; 0 asks the system for a free port (tests).
    public var port = 7443

    public var certificateChainPath: String
    public var privateKeyPath: String
    /// The CA certificate(s) that issue client certificates directly: the issuing intermediate
    /// alone, not its root (a sibling intermediate under that root is not trusted).
    public var clientCAPath: String
    /// Revocation lists of the client CAs, PEM; client certificates are then checked against them.
    public var clientCRLPath: String?
    /// The SQLite file, or a `postgres://` URL naming a PostgreSQL database that several
    /// instances share (see `PostgresStoreConfiguration` for the URL's options).
    public var storePath: String
    public var pepperKeyringPath: String

    /// The KDF for new hashes; older hashes are upgraded on their next successful check.
    public var keyDerivation = KeyDerivation.recommended
    /// The KDF costs accepted in stored hashes; ``keyDerivation`` must lie within them.
    public var derivationBounds = DerivationBounds.service
    /// Consecutive failed checks that block a subject.
    public var attemptLimit = 3
    public var allowTLS12 = true

    public var maximumFrameBytes = 65_536
    public var maximumConnections = 10_000
    public var maximumInFlightPerConnection = 256
    /// Connections still in their TLS handshake; beyond it new connections are refused.
    public var maximumHandshaking = 256
    /// Connections per caller (certificate CN).
    public var maximumConnectionsPerCaller = 1_000
    /// Requests in flight per caller, over all its connections.
    public var maximumInFlightPerCaller = 4_096
    /// Hashing jobs one caller may have waiting; a quarter of the queue by default.
    public var hashingQueueSharePerCaller: Int?
    public var handshakeTimeout = TimeAmount.seconds(5)
    /// Security and code checks one caller may make per minute.
    public var checksPerMinutePerCaller = 6_000
    /// One-time codes one caller may have issued per minute.
    public var codesPerMinutePerCaller = 600
    /// Locks by one caller within ``lockAlarmWindow`` that raise the lock alarm.
    public var lockAlarmThreshold = 20
    /// How long a recovery request waits for a copy of an identity document: 14 days.
    public var recoveryRequestLifetime = TimeAmount.hours(14 * 24)
    public var lockAlarmWindow = Duration.seconds(600)
    /// How long a half-received frame may stall before the connection is closed.
    public var readTimeout = TimeAmount.seconds(30)
    /// How long a connection may sit with nothing in flight and nothing received.
    public var idleTimeout = TimeAmount.seconds(300)
    /// The deadline of a request that names none.
    public var defaultDeadline = TimeAmount.seconds(10)
    /// The longest deadline honoured; longer ones are cut to this.
    public var maximumDeadline = TimeAmount.seconds(60)
    /// Hashing work running at once; the cores of the machine by default.
    public var hashingConcurrency = System.coreCount
    /// Hashing work allowed to wait; beyond it requests are answered RESOURCE_EXHAUSTED.
    public var hashingQueueLimit = 1_024
    /// How often expired outbox content is erased.
    public var outboxExpiryInterval = TimeAmount.seconds(5)
    /// How long a graceful shutdown waits for requests in flight.
    public var shutdownGracePeriod = TimeAmount.seconds(10)
    /// Print every outbox delivery to standard output and acknowledge it, so that a developer
    /// sees one-time codes arrive. Development mode only: it never runs in production.
    public var developmentConsoleSink = false
    /// Serve `Development/AdvanceClock`, which moves the service's clock forward so that the
    /// waits of a change request can be watched. Development mode only: never in production.
    package var developmentClock = false
    /// How often the scheduler takes the timed steps that fell due (change requests' reminders
    /// and automatic declines); it also takes them once at start-up.
    public var timedStepInterval = TimeAmount.seconds(30)

    public init(
        certificateChainPath: String,
        privateKeyPath: String,
        clientCAPath: String,
        storePath: String,
        pepperKeyringPath: String
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        self.storePath = storePath
        self.pepperKeyringPath = pepperKeyringPath
    }
}
