// swift-tools-version:6.0
//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

let package = Package(
    name: "verity",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VerityCrypto", targets: ["VerityCrypto"]),
        .library(name: "VerityCore", targets: ["VerityCore"]),
        .library(name: "VerityStore", targets: ["VerityStore"]),
        .library(name: "VerityPostgres", targets: ["VerityPostgres"]),
        .library(name: "VerityTLS", targets: ["VerityTLS"]),
        .library(name: "VerityProtocol", targets: ["VerityProtocol"]),
        .library(name: "VerityTransport", targets: ["VerityTransport"]),
        .library(name: "VerityServer", targets: ["VerityServer"]),
        .library(name: "VerityClient", targets: ["VerityClient"]),
        .executable(name: "verityd", targets: ["verityd"]),
        .executable(name: "verityctl", targets: ["verityctl"]),
        .executable(name: "verity-bench", targets: ["verity-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The system's OpenSSL 3 (libssl-dev), found through pkg-config.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        // The OpenSSL macros Swift cannot import, as static inline functions and constants.
        .target(name: "COpenSSLShims", dependencies: ["COpenSSL"]),
        .target(name: "VerityCrypto", dependencies: ["COpenSSL"]),
        .target(
            name: "VerityCore",
            dependencies: [
                "VerityCrypto",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "VerityStore",
            dependencies: [
                "VerityCore", "VerityCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The same store on PostgreSQL, for several instances on one database.
        .target(
            name: "VerityPostgres",
            dependencies: [
                "VerityCore", "VerityCrypto",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "VerityTLS",
            dependencies: [
                "COpenSSL", "COpenSSLShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .target(
            name: "VerityProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ]
        ),
        .target(
            name: "VerityTransport",
            dependencies: [
                "VerityTLS", "VerityProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ]
        ),
        .target(
            name: "VerityServer",
            dependencies: [
                "VerityCore", "VerityStore", "VerityPostgres", "VerityTLS", "VerityProtocol", "VerityCrypto", "VerityTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "VerityClient",
            dependencies: [
                "VerityTLS", "VerityProtocol", "VerityTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "verityctl",
            dependencies: [
                "VerityClient", "VerityProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "verity-bench",
            dependencies: [
                "VerityClient", "VerityCrypto", "VerityTLS", "VerityProtocol", "VerityTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "verityd",
            dependencies: [
                "VerityServer", "VerityCore", "VerityStore", "VerityPostgres", "VerityCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Helpers the test targets share: a counting hasher, log capture, temporary folders.
        .target(
            name: "VerityTestSupport",
            dependencies: [
                "VerityCore", "VerityStore", "VerityPostgres", "VerityCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/VerityTestSupport"
        ),
        .testTarget(
            name: "VerityTLSTests",
            dependencies: [
                "VerityTLS", "VerityTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "VerityProtocolTests",
            dependencies: [
                "VerityProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "VerityIntegrationTests",
            dependencies: [
                "VerityServer", "VerityTLS", "VerityProtocol", "VerityClient", "VerityTestSupport", "verityd", "verityctl",
                "VerityCore", "VerityStore", "VerityCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "VerityCryptoTests", dependencies: ["VerityCrypto", "COpenSSLShims"]),
        .testTarget(
            name: "VerityCoreTests",
            dependencies: [
                "VerityCore", "VerityStore", "VerityTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "VerityStoreTests",
            dependencies: [
                "VerityCore", "VerityStore", "VerityPostgres", "VerityCrypto", "VerityTestSupport", "VerityCrashProbe",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // A child process that reserves an attempt and waits to be killed: the crash test's victim.
        .executableTarget(
            name: "VerityCrashProbe",
            dependencies: ["VerityCore", "VerityStore"],
            path: "Tests/VerityCrashProbe"
        ),
    ],
    swiftLanguageModes: [.v6]
)
