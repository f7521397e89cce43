//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A fresh directory under the system's temporary folder, removed when the value is released.
package final class TemporaryDirectory: Sendable {
    package let url: URL

    package init(_ prefix: String = "verity-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    package func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Every file's bytes, for searching what reached the disk.
    package func allFileContents() throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().map { name in
            (name, Array(try Data(contentsOf: url.appendingPathComponent(name))))
        }
    }
}
