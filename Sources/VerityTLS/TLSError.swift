//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// Why a TLS connection or context failed.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// OpenSSL refused a certificate, key or setting while the context was built.
    case configuration(String)
    /// The handshake failed: an untrusted or missing certificate, a refused protocol version or
    /// ALPN, or bytes that are not TLS at all.
    case handshakeFailed(OpenSSLErrorStack)
    /// The handshake did not finish within the handshake timeout.
    case handshakeTimedOut
    /// The connection ended during the handshake.
    case eofDuringHandshake
    /// The connection ended without a close_notify, so a truncation cannot be ruled out.
    case uncleanShutdown
    /// A TLS record could not be read or written after the handshake.
    case connectionFailed(OpenSSLErrorStack)
    /// Our close_notify was sent but the peer's did not arrive in time.
    case shutdownTimedOut
    /// The client certificate chains to a trusted root, but its issuer is not a configured client CA.
    case untrustedIssuer

    public var description: String {
        switch self {
        case let .configuration(reason): "TLS configuration failed: \(reason)"
        case let .handshakeFailed(stack): "TLS handshake failed: \(stack)"
        case .handshakeTimedOut: "TLS handshake timed out"
        case .eofDuringHandshake: "the connection closed during the TLS handshake"
        case .uncleanShutdown: "the connection closed without a TLS close_notify"
        case let .connectionFailed(stack): "TLS connection failed: \(stack)"
        case .shutdownTimedOut: "the peer did not answer our TLS close_notify in time"
        case .untrustedIssuer: "the client certificate was not issued by a configured client CA"
        }
    }
}

/// The OpenSSL error queue at the moment of a failure, as readable strings.
public struct OpenSSLErrorStack: Equatable, Sendable, CustomStringConvertible {
    public let errors: [String]

    public var description: String { errors.isEmpty ? "no OpenSSL error recorded" : errors.joined(separator: "; ") }

    /// Takes and clears the calling thread's OpenSSL error queue.
    static func drain() -> OpenSSLErrorStack {
        var errors: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            errors.append(String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self))
        }
        return OpenSSLErrorStack(errors: errors)
    }
}
