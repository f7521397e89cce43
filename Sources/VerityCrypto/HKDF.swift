//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// HKDF-SHA256 (RFC 5869) through OpenSSL's `EVP_KDF` "HKDF": one key per use, derived from a
/// pepper key under a label of its own, so that no two uses ever share a key and the raw pepper
/// is never applied to input a caller chose.
public enum HKDF {
    /// `length` bytes of HKDF-SHA256 of `key`, with `salt` and `info`.
    ///
    /// - Throws: ``OpenSSLError`` if OpenSSL cannot fetch or run the KDF.
    public static func sha256(key: [UInt8], salt: [UInt8] = [], info: [UInt8], length: Int = 32) throws -> [UInt8] {
        let parameters = KDFParameterList()
        parameters.append(utf8: KDFParameterKey.sha256, key: KDFParameterKey.digest)
        parameters.append(octets: key, key: KDFParameterKey.key)
        if !salt.isEmpty { parameters.append(octets: salt, key: KDFParameterKey.salt) }
        parameters.append(octets: info, key: KDFParameterKey.info)
        return try FetchedKDF.hkdf.get().derive(length: length, parameters: parameters)
    }
}
