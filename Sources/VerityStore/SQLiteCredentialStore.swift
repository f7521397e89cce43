//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import VerityCore
import VerityCrypto

/// The ``CredentialStore`` on SQLite, through GRDB: the embedded default.
///
/// One file in WAL mode, every commit durable (`synchronous = FULL`), because a lost failure
/// count is a security bug. Several processes may share the file: writes take SQLite's write
/// lock at once (`BEGIN IMMEDIATE`) and wait up to ``busyTimeout`` for it.
package final class SQLiteCredentialStore: CredentialStore {
    /// How long a write waits by default for another process's write lock before failing.
    package static let busyTimeout: TimeInterval = 10

    let writer: any DatabaseWriter
    /// Seal new audit events and check old ones.
    let auditKeys: AuditChainKeys

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    ///
    /// - Throws: ``StoreDurabilityError`` when the writer connection does not run with
    ///   `synchronous = FULL`: the store refuses to run with commits a power cut could undo.
    /// - Parameters:
    ///   - keyring: the pepper keys, from which the audit chain's keys derive.
    ///   - busyTimeout: how long a write waits for another process's write lock; then the call
    ///     fails as a busy ``StoreFailure`` and nothing is written.
    package convenience init(path: String, keyring: PepperKeyring, busyTimeout: TimeInterval = busyTimeout) throws {
        let pool = try DatabasePool(path: path, configuration: Self.configuration(busyTimeout: busyTimeout))
        // GRDB's WAL set-up lowers the writer to NORMAL after `prepareDatabase` ran, and only
        // the writer's setting decides whether a commit is fsynced: we set it last, and read it back.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            guard level == Self.synchronousFull else { throw StoreDurabilityError(synchronous: level) }
        }
        try self.init(writer: pool, keyring: keyring)
    }

    /// SQLite's value of `PRAGMA synchronous` for FULL: every commit is fsynced before it returns.
    static let synchronousFull = 2

    /// Opens a store that lives in memory, for tests and tools.
    package static func inMemory(keyring: PepperKeyring) throws -> SQLiteCredentialStore {
        try SQLiteCredentialStore(writer: DatabaseQueue(configuration: configuration(busyTimeout: busyTimeout)), keyring: keyring)
    }

    private init(writer: any DatabaseWriter, keyring: PepperKeyring) throws {
        self.writer = writer
        self.auditKeys = AuditChainKeys(keyring: keyring)
        try Self.migrator.migrate(writer)
        try keyTheChainIfItIsNot()
    }

    /// A trail written before the chain was keyed gets a keyed head now: until then anyone who
    /// can write the database could recompute its plain SHA-256 links.
    private func keyTheChainIfItIsNot() throws {
        try writer.write { db in
            guard let head = try Row.fetchOne(db, sql: "SELECT key_id FROM audit_event ORDER BY seq DESC LIMIT 1"),
                  (head["key_id"] as String?) == nil else { return }
            let marker = AuditDraft(
                time: Date(), context: CallContext(caller: "verityd", role: "system"), subjectID: nil,
                action: .chainKeyed, outcome: "OK", facts: ["the audit chain is keyed from here on"]
            )
            try AuditTrail.append([marker], keys: self.auditKeys, db)
        }
    }

    /// One write transaction; a database error leaves as a ``StoreFailure``.
    func write<Value: Sendable>(_ updates: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        do {
            return try await writer.write(updates)
        } catch let error as DatabaseError {
            throw StoreFailure(error)
        }
    }

    /// One read on GRDB's reader threads; a database error leaves as a ``StoreFailure``. Never
    /// on the calling thread: a synchronous read would hold one of Swift's shared threads while
    /// it waits for a reader, and long reads (the audit chain) can hold every reader.
    func read<Value: Sendable>(_ value: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        do {
            return try await writer.read(value)
        } catch let error as DatabaseError {
            throw StoreFailure(error)
        }
    }

    /// Closes the database files. The store must not be used afterwards.
    package func close() throws {
        if let pool = writer as? DatabasePool { try pool.close() }
        if let queue = writer as? DatabaseQueue { try queue.close() }
    }

    /// The value of an integer `PRAGMA` on the writer connection, the one whose settings decide
    /// durability, for diagnostics and tests.
    func writerPragma(_ name: String) async throws -> Int? {
        try await writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    private static func configuration(busyTimeout: TimeInterval) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Replaced hashes are overwritten on disk rather than left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return configuration
    }

    package func insert(_ subject: Subject, audit: AuditDraft) async throws {
        do {
            try await writer.write { db in
                try SubjectRow.insert(subject, db)
                try AuditTrail.append([audit], keys: self.auditKeys, db)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw CredentialError.alreadyExists(subject.id)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw CredentialError.notFound(subject.representsSubjectID ?? subject.id)
        } catch let error as DatabaseError {
            throw StoreFailure(error)
        }
    }

    package func subject(_ id: SubjectID) async throws -> Subject? {
        try await read { db in try SubjectRow.fetch(id, db) }
    }

    package func subjectStatus(_ id: SubjectID) async throws -> SubjectStatus? {
        try await read { db in try SubjectRow.fetchStatus(id, db) }
    }

    package func checkReachable() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_schema") }
    }

    package func modify<Value: Sendable>(
        _ id: SubjectID,
        _ change: @escaping @Sendable (inout Subject) throws -> SubjectModification<Value>
    ) async throws -> Value {
        try await write { db in
            guard let previous = try SubjectRow.fetch(id, db) else { throw CredentialError.notFound(id) }
            var subject = previous
            let modification = try change(&subject)
            if subject != previous { try SubjectRow.update(subject, previous: previous, db) }
            try AuditTrail.append(modification.audit, keys: self.auditKeys, db)
            return modification.value
        }
    }

    package func append(_ audit: [AuditDraft]) async throws {
        try await write { db in try AuditTrail.append(audit, keys: self.auditKeys, db) }
    }

    package func auditEvents(subjectID: SubjectID?, afterSeq: Int64, limit: Int) async throws -> [AuditEvent] {
        try await read { db in try AuditTrail.events(subjectID: subjectID, afterSeq: afterSeq, limit: limit, db) }
    }

    package func keyInventory() async throws -> KeyInventory {
        try await read { db in
            var inventory = KeyInventory()
            // A cursor: a store of millions of subjects is counted without holding it in memory.
            let hashes = try String.fetchCursor(db, sql: """
                SELECT hash FROM (
                    SELECT pin_hash AS hash FROM subject UNION ALL SELECT password_hash FROM subject
                    UNION ALL SELECT spoken_password_hash FROM subject UNION ALL SELECT ivr_pin_hash FROM subject
                    UNION ALL SELECT identity_document_hash FROM subject UNION ALL SELECT place_of_birth_hash FROM subject
                    UNION ALL SELECT children_hash FROM subject
                ) WHERE hash IS NOT NULL
                """)
            while let hash = try hashes.next() { inventory.addSecretHash(hash) }
            let others = try Row.fetchAll(db, sql: """
                SELECT pepper_key_id, 'one-time code', count(*) FROM code_challenge WHERE state = 'ACTIVE' GROUP BY 1
                UNION ALL SELECT pepper_key_id, 'outbox delivery', count(*) FROM outbox WHERE state = 'PENDING' GROUP BY 1
                UNION ALL SELECT key_id, 'audit event', count(*) FROM audit_event WHERE key_id IS NOT NULL GROUP BY 1
                UNION ALL SELECT pepper_key_id, 'registration token', count(*) FROM registration_token
                    WHERE state = 'ACTIVE' AND expires_at_ms > CAST(strftime('%s', 'now') AS INTEGER) * 1000 GROUP BY 1
                UNION ALL SELECT json_extract(facts, '$.keyID'), 'link facts', count(*) FROM link_facts GROUP BY 1
                """)
            for row in others { inventory.add(keyID: row[0], item: row[1], count: row[2]) }
            return inventory
        }
    }

    package func verifyAuditChain() async throws -> AuditChainReport {
        try await read { db in try AuditTrail.verify(keys: self.auditKeys, db) }
    }
}

/// The writer connection does not fsync every commit, so an acknowledged failure count or block
/// could be lost in a power cut.
package struct StoreDurabilityError: Error, CustomStringConvertible {
    package let synchronous: Int?
    package var description: String {
        "the store's writer runs with PRAGMA synchronous = \(synchronous.map(String.init) ?? "unknown"), not FULL (2); refusing to start"
    }
}

extension StoreFailure {
    /// SQLite's error as a store failure: BUSY and LOCKED are worth a retry, the rest are not.
    init(_ error: DatabaseError) {
        let busy = error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
        self.init(kind: busy ? .busy : .failed, code: error.extendedResultCode.rawValue, message: error.message ?? "")
    }
}
