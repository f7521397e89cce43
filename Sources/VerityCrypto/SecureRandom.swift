//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// Randomness from OpenSSL's CSPRNG (`RAND_bytes`), the only source Verity uses.
public enum SecureRandom {
    /// Returns `count` random bytes.
    ///
    /// - Important: `RAND_bytes` can fail only when the generator cannot be seeded; we treat
    ///   that as fatal, because every caller would otherwise mint predictable secrets.
    public static func bytes(count: Int) -> [UInt8] {
        precondition(count >= 0, "a byte count cannot be negative")
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        ERR_clear_error()
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else {
            fatalError("RAND_bytes could not produce random bytes: \(OpenSSLError.drain(after: "RAND_bytes"))")
        }
        return bytes
    }

    /// Returns a string of `count` decimal digits, each uniformly distributed.
    ///
    /// We use rejection sampling: a byte of 250 or more is discarded, so each of the 250
    /// accepted values maps to every digit exactly 25 times and no digit is favoured, which a
    /// plain `byte % 10` would do for 0 to 5.
    public static func digits(count: Int) -> String {
        var digits: [UInt8] = []
        digits.reserveCapacity(count)
        while digits.count < count {
            for byte in bytes(count: count - digits.count + 4) where byte < 250 && digits.count < count {
                digits.append(UInt8(ascii: "0") + byte % 10)
            }
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
