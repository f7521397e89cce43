//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// SHA-256 through OpenSSL, for values that are not secrets (such as the audit chain).
public enum SHA256 {
    /// Returns the SHA-256 digest of `message`.
    public static func digest(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        message.withUnsafeBufferPointer { bytes in
            digest.withUnsafeMutableBufferPointer { out in
                _ = COpenSSL.SHA256(bytes.baseAddress, bytes.count, out.baseAddress)
            }
        }
        return digest
    }
}
