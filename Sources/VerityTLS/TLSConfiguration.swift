//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore

/// How one end of a Verity TLS connection is set up.
///
/// The defaults are the transport hygiene of `security.md`: TLS 1.3 preferred, TLS 1.2 allowed
/// only with ECDHE and AEAD suites, no renegotiation, no compression, ALPN `verity/1`, and the
/// peer's certificate always verified.
public struct TLSConfiguration: Sendable {
    /// The ALPN protocol id of the Verity wire protocol, version 1.
    public static let alpnProtocol = "verity/1"

    /// Which side of the handshake this end plays.
    public enum Role: Sendable {
        /// Accepts connections and requires every client to present a trusted certificate.
        case server
        /// Connects, and checks that the server's certificate names `serverName` (a host name or an IP address).
        case client(serverName: String)
    }

    public var role: Role
    /// PEM file holding this end's certificate, followed by any intermediates.
    public var certificateChainPath: String?
    /// PEM file holding this end's private key.
    public var privateKeyPath: String?
    /// PEM file of the CA certificates that the peer's certificate must chain to. A server
    /// trusts exactly these CAs as the direct issuers of client certificates: an intermediate
    /// alone is a trust anchor, and a client certificate issued by any other CA, even a sibling
    /// under the same root, is refused.
    public var trustRootsPath: String
    /// PEM file of certificate revocation lists, checked for the peer's certificate (a server's clients).
    public var revocationListPath: String?
    /// Whether TLS 1.2 (ECDHE + AEAD suites only) is accepted beside TLS 1.3.
    public var allowTLS12 = true
    /// The application protocols this end speaks.
    public var applicationProtocols = [alpnProtocol]
    /// How long a handshake may take before the connection is closed.
    public var handshakeTimeout = TimeAmount.seconds(10)
    /// How long to wait for the peer's close_notify after sending ours.
    public var shutdownTimeout = TimeAmount.seconds(5)

    public init(role: Role, certificateChainPath: String?, privateKeyPath: String?, trustRootsPath: String) {
        self.role = role
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
    }

    /// A server that requires client certificates issued by the CA in `clientCAPath`.
    public static func server(certificateChainPath: String, privateKeyPath: String, clientCAPath: String) -> TLSConfiguration {
        TLSConfiguration(role: .server, certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath, trustRootsPath: clientCAPath)
    }

    /// A client presenting the given certificate, trusting servers whose certificate chains to `serverCAPath`.
    public static func client(
        serverName: String,
        certificateChainPath: String?,
        privateKeyPath: String?,
        serverCAPath: String
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .client(serverName: serverName), certificateChainPath: certificateChainPath,
            privateKeyPath: privateKeyPath, trustRootsPath: serverCAPath
        )
    }

    /// TLS 1.2 suites: forward secrecy (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305) only.
    static let tls12CipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
}
