//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL
import Synchronization

/// A password-based key derivation function with its cost parameters, run through `EVP_KDF`.
///
/// scrypt is the default because it is memory-hard; PBKDF2-HMAC-SHA256 is the choice for a
/// FIPS deployment, whose validated provider has no scrypt. Both sit behind this one type so
/// that nothing above it changes when a deployment switches.
public enum KeyDerivation: Hashable, Sendable {
    /// scrypt with `N = 2^logN`, block size `r` and parallelism `p` (RFC 7914).
    case scrypt(logN: Int, r: Int, p: Int)
    /// PBKDF2 with HMAC-SHA256 and the given iteration count (RFC 8018).
    case pbkdf2SHA256(iterations: Int)

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// - Throws: ``OpenSSLError`` if OpenSSL refuses the parameters or cannot fetch the KDF.
    public func deriveKey(password: [UInt8], salt: [UInt8], length: Int) throws -> [UInt8] {
        Self.meter?.record()
        let parameters = KDFParameterList()
        parameters.append(octets: password, key: KDFParameterKey.password)
        parameters.append(octets: salt, key: KDFParameterKey.salt)
        let kdf: FetchedKDF
        switch self {
        case let .scrypt(logN, r, p):
            kdf = try FetchedKDF.scrypt.get()
            let n = UInt64(1) << UInt64(logN)
            parameters.append(uint64: n, key: KDFParameterKey.scryptN)
            parameters.append(uint32: UInt32(r), key: KDFParameterKey.scryptR)
            parameters.append(uint32: UInt32(p), key: KDFParameterKey.scryptP)
            // OpenSSL refuses scrypt above 1 GiB unless told otherwise; we allow what the
            // parameters need (128 * r * (N + p) bytes) plus room for bookkeeping.
            let needed = 128 * UInt64(r) * (n + UInt64(p)) + (1 << 20)
            parameters.append(uint64: max(needed, 32 << 20), key: KDFParameterKey.scryptMaxMemory)
        case let .pbkdf2SHA256(iterations):
            kdf = try FetchedKDF.pbkdf2.get()
            parameters.append(uint64: UInt64(iterations), key: KDFParameterKey.iterations)
            parameters.append(utf8: KDFParameterKey.sha256, key: KDFParameterKey.digest)
        }
        return try kdf.derive(length: length, parameters: parameters)
    }
}

extension KeyDerivation {
    /// Counts the KDF runs of the task it is bound to (``meter``), wherever in the call tree they
    /// happen: how a test proves that work was really spent, on the real hasher, rather than
    /// counted by a stand-in.
    public final class Meter: Sendable {
        private let runs = Mutex(0)

        public init() {}

        /// KDF runs so far.
        public var count: Int { runs.withLock { $0 } }

        func record() { runs.withLock { $0 += 1 } }
    }

    /// The meter of the current task, if one is bound.
    @TaskLocal public static var meter: Meter?
}

/// An `EVP_KDF` fetched once for the life of the process; OpenSSL documents fetched
/// algorithms as safe to share between threads.
final class FetchedKDF: @unchecked Sendable {
    static let scrypt = Result { try FetchedKDF(name: OSSL_KDF_NAME_SCRYPT) }
    static let pbkdf2 = Result { try FetchedKDF(name: OSSL_KDF_NAME_PBKDF2) }
    static let hkdf = Result { try FetchedKDF(name: OSSL_KDF_NAME_HKDF) }

    private let kdf: OpaquePointer

    private init(name: String) throws {
        ERR_clear_error()
        guard let kdf = EVP_KDF_fetch(nil, name, nil) else {
            throw OpenSSLError.drain(after: "EVP_KDF_fetch(\(name))")
        }
        self.kdf = kdf
    }

    deinit { EVP_KDF_free(kdf) }

    func derive(length: Int, parameters: KDFParameterList) throws -> [UInt8] {
        ERR_clear_error()
        guard let context = EVP_KDF_CTX_new(kdf) else {
            throw OpenSSLError.drain(after: "EVP_KDF_CTX_new")
        }
        defer { EVP_KDF_CTX_free(context) }
        var key = [UInt8](repeating: 0, count: length)
        let status = parameters.withParameters { list in
            key.withUnsafeMutableBufferPointer { EVP_KDF_derive(context, $0.baseAddress, length, list) }
        }
        guard status == 1 else { throw OpenSSLError.drain(after: "EVP_KDF_derive") }
        return key
    }
}

/// The names of `OSSL_PARAM` keys, copied once into memory that lives as long as the process.
///
/// We never pass a Swift string straight to `OSSL_PARAM_construct_*`: the bridged C string is a
/// temporary, and a parameter array that outlives it makes `EVP_KDF_derive` read freed memory
/// (in debug builds it then quietly derives nothing).
enum KDFParameterKey {
    nonisolated(unsafe) static let password = permanent(OSSL_KDF_PARAM_PASSWORD)
    nonisolated(unsafe) static let salt = permanent(OSSL_KDF_PARAM_SALT)
    nonisolated(unsafe) static let scryptN = permanent(OSSL_KDF_PARAM_SCRYPT_N)
    nonisolated(unsafe) static let scryptR = permanent(OSSL_KDF_PARAM_SCRYPT_R)
    nonisolated(unsafe) static let scryptP = permanent(OSSL_KDF_PARAM_SCRYPT_P)
    nonisolated(unsafe) static let scryptMaxMemory = permanent(OSSL_KDF_PARAM_SCRYPT_MAXMEM)
    nonisolated(unsafe) static let iterations = permanent(OSSL_KDF_PARAM_ITER)
    nonisolated(unsafe) static let digest = permanent(OSSL_KDF_PARAM_DIGEST)
    nonisolated(unsafe) static let key = permanent(OSSL_KDF_PARAM_KEY)
    nonisolated(unsafe) static let info = permanent(OSSL_KDF_PARAM_INFO)
    static let sha256 = "SHA256"

    private static func permanent(_ name: String) -> UnsafePointer<CChar> {
        UnsafePointer(strdup(name)!)
    }
}

/// An `OSSL_PARAM` array whose values live in memory it owns until it is released.
///
/// Each value is copied into its own allocation, so the array stays valid for the whole
/// derive call; secret values are wiped with `OPENSSL_cleanse` before they are freed.
final class KDFParameterList {
    private var parameters: [OSSL_PARAM] = []
    private var allocations: [UnsafeMutableRawBufferPointer] = []

    deinit {
        for allocation in allocations {
            OPENSSL_cleanse(allocation.baseAddress, allocation.count)
            allocation.deallocate()
        }
    }

    func append(octets: [UInt8], key: UnsafePointer<CChar>) {
        let storage = allocate(max(octets.count, 1))
        storage.copyBytes(from: octets)
        parameters.append(OSSL_PARAM_construct_octet_string(key, storage.baseAddress, octets.count))
    }

    func append(uint64 value: UInt64, key: UnsafePointer<CChar>) {
        let storage = allocate(MemoryLayout<UInt64>.size)
        storage.storeBytes(of: value, as: UInt64.self)
        parameters.append(OSSL_PARAM_construct_uint64(key, storage.baseAddress!.assumingMemoryBound(to: UInt64.self)))
    }

    func append(uint32 value: UInt32, key: UnsafePointer<CChar>) {
        let storage = allocate(MemoryLayout<UInt32>.size)
        storage.storeBytes(of: value, as: UInt32.self)
        parameters.append(OSSL_PARAM_construct_uint32(key, storage.baseAddress!.assumingMemoryBound(to: UInt32.self)))
    }

    func append(utf8 value: String, key: UnsafePointer<CChar>) {
        let bytes = Array(value.utf8) + [0]
        let storage = allocate(bytes.count)
        storage.copyBytes(from: bytes)
        let text = storage.baseAddress!.assumingMemoryBound(to: CChar.self)
        parameters.append(OSSL_PARAM_construct_utf8_string(key, text, bytes.count - 1))
    }

    /// Calls `body` with the array, terminated by `OSSL_PARAM_END`.
    func withParameters<Result>(_ body: (UnsafePointer<OSSL_PARAM>) -> Result) -> Result {
        (parameters + [OSSL_PARAM_construct_end()]).withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawBufferPointer {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
        allocations.append(storage)
        return storage
    }
}
