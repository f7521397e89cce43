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
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VerityCrypto", targets: ["VerityCrypto"]),
        .library(name: "VerityCore", targets: ["VerityCore"]),
        .library(name: "VerityStore", targets: ["VerityStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
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
            ],
            exclude: ["Policy/generate-word-lists.py"]
        ),
        .target(
            name: "VerityStore",
            dependencies: [
                "VerityCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Helpers the test targets share: a counting hasher, log capture, temporary folders.
        .target(
            name: "VerityTestSupport",
            dependencies: [
                "VerityCore", "VerityStore", "VerityCrypto",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/VerityTestSupport"
        ),
        .testTarget(name: "VerityCryptoTests", dependencies: ["VerityCrypto", "COpenSSLShims"]),
        .testTarget(
            name: "VerityCoreTests",
            dependencies: ["VerityCore", "VerityStore", "VerityTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "VerityStoreTests",
            dependencies: [
                "VerityCore", "VerityStore", "VerityTestSupport", "VerityCrashProbe",
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
