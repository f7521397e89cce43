//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto
import VerityProtocol
import VerityTLS

/// What `verityd` with no certificate flags makes in its data directory on the first run: the
/// SQLite store's place, a pepper keyring, and a development PKI with a client certificate per role.
public struct DevelopmentSetup: Sendable {
    public let dataDirectory: URL
    public let pki: DevelopmentPKI
    public let pepperKeyringPath: String
    public let storePath: String
    /// Whether this run made the files (the first run).
    public let created: Bool

    /// Makes whatever is missing, with owner-only permissions on the directory and the secrets.
    public static func ensure(in dataDirectory: URL) throws -> DevelopmentSetup {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pepperPath = dataDirectory.appendingPathComponent("pepper.json").path
        let pkiDirectory = dataDirectory.appendingPathComponent("pki")
        let created = !FileManager.default.fileExists(atPath: pkiDirectory.appendingPathComponent("ca.pem").path)
        if !FileManager.default.fileExists(atPath: pepperPath) {
            try PepperKeyring.random(keyID: "dev-1").write(to: pepperPath)
        }
        let pki = try DevelopmentPKI.ensure(in: pkiDirectory, roles: Role.allCases.map(\.rawValue))
        return DevelopmentSetup(
            dataDirectory: dataDirectory, pki: pki, pepperKeyringPath: pepperPath,
            storePath: dataDirectory.appendingPathComponent("verity.sqlite").path, created: created
        )
    }

    /// A server configuration that uses these files.
    public func configuration() -> ServerConfiguration {
        ServerConfiguration(
            certificateChainPath: pki.serverCertificatePath, privateKeyPath: pki.serverKeyPath, clientCAPath: pki.caCertificatePath,
            storePath: storePath, pepperKeyringPath: pepperKeyringPath
        )
    }
}
