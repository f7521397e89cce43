//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// An OpenSSL private key (`EVP_PKEY`).
public final class PrivateKey: @unchecked Sendable {
    let key: OpaquePointer

    private init(key: OpaquePointer) {
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// Generates an ECDSA key on the P-256 curve.
    public static func generateP256() throws -> PrivateKey {
        ERR_clear_error()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CertificateError.openSSL("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1,
            let key
        else { throw CertificateError.openSSL("EVP_PKEY_generate") }
        return PrivateKey(key: key)
    }

    /// Reads a PEM private key.
    public convenience init(pem: String) throws {
        let bio = try MemoryBIO(pem)
        ERR_clear_error()
        guard let key = PEM_read_bio_PrivateKey(bio.bio, nil, nil, nil) else { throw CertificateError.openSSL("PEM_read_bio_PrivateKey") }
        self.init(key: key)
    }

    /// The key as unencrypted PKCS #8 PEM.
    public func pem() throws -> String {
        let bio = try MemoryBIO()
        guard PEM_write_bio_PrivateKey(bio.bio, key, nil, nil, 0, nil, nil) == 1 else {
            throw CertificateError.openSSL("PEM_write_bio_PrivateKey")
        }
        return bio.contents()
    }
}

/// A read-write memory BIO, freed with its owner.
final class MemoryBIO {
    let bio: OpaquePointer

    init(_ text: String = "") throws {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CertificateError.openSSL("BIO_new") }
        self.bio = bio
        if !text.isEmpty {
            let bytes = Array(text.utf8)
            guard BIO_write(bio, bytes, Int32(bytes.count)) == Int32(bytes.count) else { throw CertificateError.openSSL("BIO_write") }
        }
    }

    deinit { BIO_free(bio) }

    func contents() -> String {
        var bytes = [UInt8](repeating: 0, count: BIO_ctrl_pending(bio))
        let read = BIO_read(bio, &bytes, Int32(bytes.count))
        return String(decoding: bytes.prefix(max(0, Int(read))), as: UTF8.self)
    }
}

/// A certificate or key could not be made, read or written.
public enum CertificateError: Error, CustomStringConvertible, Sendable {
    case openSSL(String)
    case file(String)

    public var description: String {
        switch self {
        case let .openSSL(call): "\(call) failed: \(OpenSSLErrorStack.drain())"
        case let .file(reason): reason
        }
    }
}
