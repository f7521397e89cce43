//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// Who the peer is, as its verified certificate says: the caller's name (CN) and its role (OU).
///
/// The server hands this to the pipeline as a ``TLSPeerVerifiedEvent`` once the handshake has
/// verified the certificate chain; nothing else is trusted to say who is calling.
public struct PeerIdentity: Equatable, Sendable, CustomStringConvertible {
    public var commonName: String?
    public var organizationalUnit: String?

    public init(commonName: String?, organizationalUnit: String?) {
        self.commonName = commonName
        self.organizationalUnit = organizationalUnit
    }

    /// The subject's CN and OU, each only when the subject holds exactly one: a certificate with
    /// two OUs names no role, and one without a CN names no caller (`proto-spec/auth.md`).
    init(certificate: OpaquePointer) {
        let subject = X509_get_subject_name(certificate)
        commonName = Self.onlyEntry(NID_commonName, in: subject)
        organizationalUnit = Self.onlyEntry(NID_organizationalUnitName, in: subject)
    }

    public var description: String { "CN=\(commonName ?? "-") OU=\(organizationalUnit ?? "-")" }

    private static func onlyEntry(_ nid: Int32, in name: OpaquePointer?) -> String? {
        let first = X509_NAME_get_index_by_NID(name, nid, -1)
        guard first >= 0, X509_NAME_get_index_by_NID(name, nid, first) < 0 else { return nil }
        return entry(at: first, in: name)
    }

    private static func entry(at index: Int32, in name: OpaquePointer?) -> String? {
        guard let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else {
            return nil
        }
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { CRYPTO_free(utf8, #fileID, #line) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }
}

/// Fired down the pipeline when the handshake has completed and the peer's certificate is verified.
public struct TLSPeerVerifiedEvent: Sendable {
    /// The peer's certificate subject; `nil` when the peer presented none (a client need not).
    public var peer: PeerIdentity?
    /// The ALPN protocol agreed, if any.
    public var applicationProtocol: String?
    /// `TLSv1.3` or `TLSv1.2`.
    public var protocolVersion: String
}
