//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL
import COpenSSLShims

/// An OpenSSL `SSL_CTX` built once from a ``TLSConfiguration`` and shared by every connection.
///
/// OpenSSL documents an `SSL_CTX` as safe to share between threads once it is configured, and we
/// never change it afterwards; that is why this class may be `Sendable`.
public final class TLSContext: @unchecked Sendable {
    public let configuration: TLSConfiguration
    let context: OpaquePointer
    /// The ALPN list in wire format (length-prefixed names), kept alive for `SSL_set_alpn_protos`.
    let alpnWireFormat: [UInt8]
    /// A server's configured client CAs: the only certificates that may issue a client's.
    let clientIssuers: [Certificate]

    /// Builds the context, loading certificates and keys from disk.
    ///
    /// - Throws: ``TLSError/configuration(_:)`` naming the file or setting that OpenSSL refused.
    public init(_ configuration: TLSConfiguration) throws {
        self.configuration = configuration
        alpnWireFormat = configuration.applicationProtocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        switch configuration.role {
        case .server: clientIssuers = try Certificate.all(inPEMFile: configuration.trustRootsPath)
        case .client: clientIssuers = []
        }
        ERR_clear_error()
        let method: OpaquePointer?
        switch configuration.role {
        case .server: method = TLS_server_method()
        case .client: method = TLS_client_method()
        }
        guard let context = SSL_CTX_new(method) else { throw TLSError.configuration("SSL_CTX_new: \(OpenSSLErrorStack.drain())") }
        self.context = context
        try configure()
    }

    deinit { SSL_CTX_free(context) }

    /// The oldest protocol version the context accepts, as OpenSSL reports it (`TLSv1.2`, `TLSv1.3`).
    public var minimumProtocolVersion: String {
        switch verity_SSL_CTX_get_min_proto_version(context) {
        case TLS1_3_VERSION: "TLSv1.3"
        case TLS1_2_VERSION: "TLSv1.2"
        case let other: "0x\(String(other, radix: 16))"
        }
    }

    private func configure() throws {
        let minimum = configuration.allowTLS12 ? TLS1_2_VERSION : TLS1_3_VERSION
        try check(verity_SSL_CTX_set_min_proto_version(context, minimum), "minimum protocol version")
        try check(SSL_CTX_set_cipher_list(context, TLSConfiguration.tls12CipherList), "TLS 1.2 cipher list")
        _ = SSL_CTX_set_options(context, verity_SSL_OP_NO_COMPRESSION | verity_SSL_OP_NO_RENEGOTIATION | verity_SSL_OP_CIPHER_SERVER_PREFERENCE)
        _ = verity_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
        if let chain = configuration.certificateChainPath {
            try check(SSL_CTX_use_certificate_chain_file(context, chain), "certificate chain \(chain)")
        }
        if let key = configuration.privateKeyPath {
            try check(SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM), "private key \(key)")
            try check(SSL_CTX_check_private_key(context), "private key \(key) does not match the certificate")
        }
        try check(SSL_CTX_load_verify_locations(context, configuration.trustRootsPath, nil), "trust roots \(configuration.trustRootsPath)")
        switch configuration.role {
        case .server:
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            // The configured issuing CA is a trust anchor even when it is an intermediate; the
            // handshake then also checks that it issued the client certificate itself.
            var flags = UInt(X509_V_FLAG_PARTIAL_CHAIN)
            if let crl = configuration.revocationListPath {
                try loadRevocationList(crl)
                flags |= UInt(X509_V_FLAG_CRL_CHECK)
            }
            try check(X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(context), flags), "verification flags")
            if let names = SSL_load_client_CA_file(configuration.trustRootsPath) { SSL_CTX_set_client_CA_list(context, names) }
            SSL_CTX_set_alpn_select_cb(context, selectVerityALPN, nil)
            // No resumption: every connection makes a full handshake, so the client certificate
            // is verified against the current trust (and revocation) each time, and no session
            // state outlives a connection. No tickets, no cache; and a session id context, so that
            // a client offering an old session is answered with a full handshake rather than an
            // "internal error" alert (proto-spec/framing.md).
            _ = verity_SSL_CTX_set_session_cache_mode(context, verity_SSL_SESS_CACHE_OFF)
            _ = SSL_CTX_set_options(context, verity_SSL_OP_NO_TICKET)
            _ = SSL_CTX_set_num_tickets(context, 0)
            let sessionContext = Array(TLSConfiguration.alpnProtocol.utf8)
            try check(SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count)), "session id context")
        case .client:
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
    }

    private func loadRevocationList(_ path: String) throws {
        guard let store = SSL_CTX_get_cert_store(context), let lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file()) else {
            throw TLSError.configuration("certificate store: \(OpenSSLErrorStack.drain())")
        }
        guard X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) > 0 else {
            throw TLSError.configuration("revocation list \(path): \(OpenSSLErrorStack.drain())")
        }
    }

    private func check(_ result: Int32, _ what: String) throws {
        guard result == 1 else { throw TLSError.configuration("\(what): \(OpenSSLErrorStack.drain())") }
    }
}

/// The server's ALPN choice: `verity/1` if the client offers it, otherwise a fatal alert.
///
/// A client that offers no ALPN at all never reaches this callback and is accepted, as the
/// protocol allows. The selected bytes point into the client's own list, which OpenSSL keeps
/// alive for the rest of the handshake.
private func selectVerityALPN(
    _ ssl: OpaquePointer?,
    _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?,
    _ offeredLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let offered, let out, let outLength else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let wanted = Array(TLSConfiguration.alpnProtocol.utf8)
    var index = 0
    while index < Int(offeredLength) {
        let length = Int(offered[index])
        let start = index + 1
        guard start + length <= Int(offeredLength) else { break }
        if length == wanted.count, (0..<length).allSatisfy({ offered[start + $0] == wanted[$0] }) {
            out.pointee = offered + start
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL
}
