//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation

/// What `verityd` does to its own process before it reads a key: no core files (a core of a
/// process holding the pepper is the pepper), and files it creates readable by its user only.
enum ProcessHardening {
    static func apply() throws {
        umask(0o077)
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(Int32(RLIMIT_CORE.rawValue), &noCore) == 0 else {
            throw ValidationError("cannot disable core dumps (setrlimit RLIMIT_CORE: errno \(errno))")
        }
    }

    /// Refuses a data directory that the group or others may write: they could replace the
    /// store or the keyring under the service.
    static func checkPrivate(directory: URL) throws {
        var status = stat()
        guard stat(directory.path, &status) == 0 else { return }
        let mode = Int(status.st_mode) & 0o777
        guard mode & 0o022 == 0 else {
            throw ValidationError("the data directory \(directory.path) has mode \(String(mode, radix: 8)); others could replace the store: chmod go-w \(directory.path)")
        }
    }
}
