//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL
import COpenSSLShims
import NIOCore

/// One OpenSSL `SSL` object with its two memory BIOs: ciphertext from the network goes into
/// the read BIO, ciphertext for the network comes out of the write BIO.
///
/// Every call follows the same discipline: clear the thread's error queue, call, then classify
/// the result with `SSL_get_error` as ``Result/complete(_:)``, ``Result/incomplete`` (OpenSSL
/// wants more bytes, which is normal with memory BIOs) or ``Result/failed(_:)``.
final class SSLConnection {
    enum Result<Value> {
        case complete(Value)
        case incomplete
        case closed
        case failed(OpenSSLErrorStack)
    }

    private let ssl: OpaquePointer
    private var readBIO: OpaquePointer
    private var writeBIO: OpaquePointer
    /// Kept so that the `SSL_CTX` outlives this `SSL`.
    private let context: TLSContext

    init(context: TLSContext) throws {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else { throw TLSError.configuration("SSL_new: \(OpenSSLErrorStack.drain())") }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.configuration("BIO_new: \(OpenSSLErrorStack.drain())")
        }
        // The SSL now owns both BIOs and frees them with itself.
        SSL_set_bio(ssl, readBIO, writeBIO)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        self.context = context
        try configureRole()
    }

    deinit { SSL_free(ssl) }

    private func configureRole() throws {
        switch context.configuration.role {
        case .server:
            SSL_set_accept_state(ssl)
        case let .client(serverName):
            SSL_set_connect_state(ssl)
            if !context.alpnWireFormat.isEmpty {
                let alpnResult = context.alpnWireFormat.withUnsafeBufferPointer {
                    SSL_set_alpn_protos(ssl, $0.baseAddress, UInt32($0.count))
                }
                // SSL_set_alpn_protos is the one OpenSSL call that returns 0 on success.
                guard alpnResult == 0 else { throw TLSError.configuration("ALPN: \(OpenSSLErrorStack.drain())") }
            }
            if Self.isIPAddress(serverName) {
                let parameters = SSL_get0_param(ssl)
                guard X509_VERIFY_PARAM_set1_ip_asc(parameters, serverName) == 1 else {
                    throw TLSError.configuration("server address \(serverName)")
                }
            } else {
                // SNI is only ever sent for names, never for addresses (RFC 6066).
                guard SSL_set1_host(ssl, serverName) == 1, verity_SSL_set_tlsext_host_name(ssl, serverName) == 1 else {
                    throw TLSError.configuration("server name \(serverName)")
                }
            }
        }
    }

    static func isIPAddress(_ name: String) -> Bool {
        name.contains(":") || (name.split(separator: ".").count == 4 && name.allSatisfy { $0.isNumber || $0 == "." })
    }

    /// Hands ciphertext received from the network to OpenSSL.
    func consume(_ buffer: inout ByteBuffer) {
        while buffer.readableBytes > 0 {
            let written = buffer.withUnsafeReadableBytes { BIO_write(readBIO, $0.baseAddress, Int32($0.count)) }
            // A memory BIO grows as needed, so a write only fails when memory runs out.
            precondition(written > 0, "BIO_write to a memory BIO failed")
            buffer.moveReaderIndex(forwardBy: Int(written))
        }
    }

    /// Swaps both memory BIOs for empty ones when neither holds a byte: a memory BIO keeps the
    /// largest buffer it ever held, and after a handshake that is several KiB per idle connection.
    func releaseIdleBuffers() {
        guard BIO_ctrl_pending(readBIO) == 0, BIO_ctrl_pending(writeBIO) == 0,
              let freshRead = BIO_new(BIO_s_mem()), let freshWrite = BIO_new(BIO_s_mem())
        else { return }
        // The SSL frees the BIOs it is given in place of the old ones.
        SSL_set0_rbio(ssl, freshRead)
        SSL_set0_wbio(ssl, freshWrite)
        readBIO = freshRead
        writeBIO = freshWrite
    }

    /// Ciphertext received and not yet decoded.
    var pendingCiphertextInput: Int { Int(BIO_ctrl_pending(readBIO)) }

    /// Takes every byte OpenSSL has produced for the network.
    func takeCiphertext(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let pending = BIO_ctrl_pending(writeBIO)
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            Int(BIO_read(writeBIO, bytes.baseAddress, Int32(pending)))
        }
        return buffer
    }

    func doHandshake() -> Result<Void> {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        return classify(result) { () }
    }

    /// Appends one record's plaintext to `buffer`, if a whole record has arrived.
    func read(into buffer: inout ByteBuffer) -> Result<Int> {
        ERR_clear_error()
        var status: Int32 = 0
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16_384) { bytes in
            var read = 0
            status = SSL_read_ex(ssl, bytes.baseAddress, bytes.count, &read)
            return status == 1 ? read : 0
        }
        return status == 1 ? .complete(count) : classify(status) { 0 }
    }

    func write(_ buffer: ByteBuffer) -> Result<Int> {
        ERR_clear_error()
        var written = 0
        let status = buffer.withUnsafeReadableBytes { SSL_write_ex(ssl, $0.baseAddress, $0.count, &written) }
        return status == 1 ? .complete(written) : classify(0) { 0 }
    }

    /// Sends our close_notify; complete once the peer's has arrived too.
    func shutdown() -> Result<Void> {
        ERR_clear_error()
        let result = SSL_shutdown(ssl)
        switch result {
        case 1: return .complete(())
        // 0 is not an error: ours is sent and theirs has not arrived yet.
        case 0: return .incomplete
        default: return classify(result) { () }
        }
    }

    var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Whether the verified chain's second certificate, the peer's issuer as the trust store
    /// found it, is one of `issuers`: a sibling CA under the same root is not.
    func peerIsIssued(byOneOf issuers: [Certificate]) -> Bool {
        guard let chain = SSL_get0_verified_chain(ssl), OPENSSL_sk_num(chain) >= 2 else { return false }
        let issuer = OpaquePointer(OPENSSL_sk_value(chain, 1))
        return issuers.contains { X509_cmp($0.certificate, issuer) == 0 }
    }

    /// The configured client CAs, for the check of a server's peer.
    var clientIssuers: [Certificate] { context.clientIssuers }

    var isServer: Bool {
        if case .server = context.configuration.role { true } else { false }
    }

    /// The verified peer's certificate subject; `nil` if the peer presented none.
    func peerIdentity() -> PeerIdentity? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        return PeerIdentity(certificate: certificate)
    }

    private func classify<Value>(_ result: Int32, value: () -> Value) -> Result<Value> {
        if result == 1 { return .complete(value()) }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .incomplete
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            return .failed(OpenSSLErrorStack.drain())
        }
    }
}
