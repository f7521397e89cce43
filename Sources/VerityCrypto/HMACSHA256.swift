//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// HMAC-SHA256 through OpenSSL: the keyed step in front of every KDF, and the MAC of one-time codes.
public enum HMACSHA256 {
    /// The length of a tag, in bytes.
    public static let tagLength = 32

    /// Returns `HMAC-SHA256(key, message)`.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: tagLength)
        var tagLength: UInt32 = 0
        ERR_clear_error()
        let result = key.withUnsafeBufferPointer { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                tag.withUnsafeMutableBufferPointer { tagBytes in
                    HMAC(
                        EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                        messageBytes.baseAddress, messageBytes.count, tagBytes.baseAddress, &tagLength
                    )
                }
            }
        }
        // HMAC-SHA256 with an in-memory key fails only if OpenSSL itself is broken.
        guard result != nil, Int(tagLength) == Self.tagLength else {
            fatalError("HMAC-SHA256 failed: \(OpenSSLError.drain(after: "HMAC"))")
        }
        return tag
    }
}
