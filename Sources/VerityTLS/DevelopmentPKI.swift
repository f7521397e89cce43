//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The development PKI that `verityd` makes on its first run: a CA, a server certificate for
/// `localhost`, `127.0.0.1` and `::1`, and one client certificate per role, with the role in OU.
///
/// Everything is made with OpenSSL's API (ECDSA P-256, SHA-256). Keys are written with mode
/// 0600 in a directory of mode 0700. These certificates are for a developer's machine only;
/// production names its own (see `certs/README.md`).
public struct DevelopmentPKI: Sendable {
    public let directory: URL

    /// The PKI laid out in `directory`, as `ensure(in:roles:)` writes it; nothing is read or made.
    public init(existingIn directory: URL) {
        self.directory = directory
    }

    public var caCertificatePath: String { path("ca.pem") }
    public var serverCertificatePath: String { path("server.pem") }
    public var serverKeyPath: String { path("server-key.pem") }
    public func certificatePath(role: String) -> String { path("\(role).pem") }
    public func keyPath(role: String) -> String { path("\(role)-key.pem") }

    /// The development PKI in `directory`, made there first if it does not exist yet.
    ///
    /// - Parameter roles: the roles that get a client certificate (CN `dev-<role>`, OU `<role>`).
    public static func ensure(in directory: URL, roles: [String]) throws -> DevelopmentPKI {
        let pki = DevelopmentPKI(existingIn: directory)
        guard !FileManager.default.fileExists(atPath: pki.caCertificatePath) else { return pki }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try pki.create(roles: roles)
        return pki
    }

    private func create(roles: [String]) throws {
        let caKey = try PrivateKey.generateP256()
        let ca = try Certificate.issue(
            name: .init(commonName: "Verity development CA", organization: "Verity development"),
            publicKey: caKey, profile: .certificateAuthority, validDays: 3650, issuer: nil, issuerKey: caKey
        )
        try write(try caKey.pem(), to: path("ca-key.pem"), secret: true)
        let serverKey = try PrivateKey.generateP256()
        let server = try Certificate.issue(
            name: .init(commonName: "localhost", organization: "Verity development"),
            publicKey: serverKey, profile: .server(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"]),
            validDays: 825, issuer: ca, issuerKey: caKey
        )
        try write(try serverKey.pem(), to: serverKeyPath, secret: true)
        try write(try server.pem(), to: serverCertificatePath, secret: false)
        for role in roles {
            let key = try PrivateKey.generateP256()
            let certificate = try Certificate.issue(
                name: .init(commonName: "dev-\(role)", organizationalUnit: role, organization: "Verity development"),
                publicKey: key, profile: .client, validDays: 825, issuer: ca, issuerKey: caKey
            )
            try write(try key.pem(), to: keyPath(role: role), secret: true)
            try write(try certificate.pem(), to: certificatePath(role: role), secret: false)
        }
        // The CA certificate is written last: its presence is what says the PKI is complete.
        try write(try ca.pem(), to: caCertificatePath, secret: false)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func write(_ text: String, to path: String, secret: Bool) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, secret ? 0o600 : 0o644)
        guard descriptor >= 0 else { throw CertificateError.file("cannot create \(path) (errno \(errno))") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard Foundation.write(descriptor, bytes, bytes.count) == bytes.count else {
            throw CertificateError.file("cannot write \(path) (errno \(errno))")
        }
    }
}
