//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// Wiping secrets from memory once they are used.
public enum SecureMemory {
    /// Overwrites the bytes with zeroes through `OPENSSL_cleanse`, which the compiler may not
    /// remove as a dead store, so a keyed digest, a derived key or a decrypted message does not
    /// linger in freed memory or a core file.
    public static func cleanse(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            OPENSSL_cleanse(base, buffer.count)
        }
    }
}
