//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The database failed a call. Every store call is one transaction, never written in part: a
/// busy or unreachable store wrote nothing of it; after any other failure it was written whole
/// or not at all, and which is unknown.
///
/// A busy or unreachable database is worth a retry; any other failure is the operators' to look
/// at, with the engine's own result code, which the server logs.
package struct StoreFailure: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable {
        /// Another writer held the lock past the store's busy timeout.
        case busy
        /// The database could not be reached, or the connection broke before the transaction
        /// took effect: nothing was written. (A store that cannot learn whether a commit took
        /// effect reports a failure instead.)
        case unavailable
        case failed
    }

    package var kind: Kind
    /// The database engine's result code, such as SQLite's `SQLITE_IOERR` (10); PostgreSQL's
    /// SQLSTATE, which is five characters, is in ``message``.
    package var code: Int32
    /// The engine's message; it never holds a secret, since secrets reach the store only hashed.
    package var message: String

    package init(kind: Kind, code: Int32, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    package var description: String { "store \(kind) (code \(code)): \(message)" }
}
