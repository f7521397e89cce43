//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// A failure reported by OpenSSL, with the library's error queue as it stood at the time.
///
/// OpenSSL keeps its error queue per thread, and Swift tasks move between threads, so every
/// call site clears the queue first and drains it straight after a failure, on the same thread.
public struct OpenSSLError: Error, CustomStringConvertible, Sendable {
    /// What Verity was doing when OpenSSL failed, such as `"EVP_KDF_derive"`.
    public let operation: String
    /// OpenSSL's own descriptions of the queued errors, oldest first.
    public let queue: [String]

    public var description: String {
        queue.isEmpty ? "\(operation) failed" : "\(operation) failed: \(queue.joined(separator: "; "))"
    }

    /// Collects and clears the calling thread's OpenSSL error queue.
    static func drain(after operation: String) -> OpenSSLError {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self))
        }
        return OpenSSLError(operation: operation, queue: messages)
    }
}
