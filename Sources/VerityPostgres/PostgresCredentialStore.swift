//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import PostgresNIO
import Synchronization
import _ConnectionPoolModule
import VerityCore
import VerityCrypto

/// The ``CredentialStore`` on PostgreSQL, for several `verityd` instances on one database.
///
/// Every write transaction first takes one transaction-scoped advisory lock, the audit chain's
/// head lock. Writes are thereby serialised across every instance exactly as SQLite serialises
/// them for one: the chain gets one total order, the lock's reservation ledger and the other
/// read-then-write rules (one active request per person, a code used once, a timed step taken
/// once) see the last committed state, and no two transactions can deadlock. Reads run in
/// read-only snapshots beside the writers. The outbox is still leased with `FOR UPDATE SKIP
/// LOCKED` and a token per lease, so that leasing stays exact if the head lock is ever narrowed.
///
/// Every commit waits for the WAL flush (`synchronous_commit = on` in each write, and the store
/// refuses a server running with `fsync = off`). A database that cannot be reached, or a
/// connection that breaks mid-transaction, fails the call as an unavailable ``StoreFailure``:
/// the transaction rolls back, and the pool reconnects when the database is back.
package final class PostgresCredentialStore: CredentialStore {
    /// The advisory lock every write transaction takes first ("VERITY" and 1).
    static let writeLockKey: Int64 = 0x5645_5249_5459_0001
    /// The advisory lock under which one instance at a time migrates the schema.
    static let migrationLockKey: Int64 = 0x5645_5249_5459_0002

    let client: PostgresClient
    let auditKeys: AuditChainKeys
    let logger: Logger
    package let configuration: PostgresStoreConfiguration
    private let running: Task<Void, Never>
    private let writerGate = WriterGate()

    /// Connects lazily: nothing is sent until ``prepare()``.
    /// - Parameter logger: at `info` at the most verbose: postgres-nio's trace lines show the
    ///   rows a statement returns (lease tokens, hashes, contacts), which no log may hold.
    package init(configuration: PostgresStoreConfiguration, keyring: PepperKeyring, logger: Logger) {
        self.configuration = configuration
        self.auditKeys = AuditChainKeys(keyring: keyring)
        var logger = logger
        logger.logLevel = max(logger.logLevel, .info)
        self.logger = logger
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        self.client = client
        self.running = Task { await client.run() }
    }

    /// Checks that commits are durable and brings the schema up to date (or, when `migrating` is
    /// false, checks that it is: a tool that only inspects must not make an empty store of a
    /// mistyped database); call once before use.
    ///
    /// - Throws: ``PostgresDurabilityError`` when the server runs with `fsync = off`;
    ///   ``SchemaMismatchError`` when the schema is not this build's.
    package func prepare(migrating: Bool = true) async throws {
        let fsync: String = try await read { session in try await session.scalar("SHOW fsync") }
        guard fsync == "on" else { throw PostgresDurabilityError(setting: "fsync", value: fsync) }
        if migrating {
            try await migrate()
        } else {
            try await checkSchema()
        }
    }

    /// Closes every connection, waiting at most `timeout` for the pool to wind down (a pool
    /// still retrying an unreachable database can take longer). The store must not be used
    /// afterwards.
    package func close(timeout: Duration = .seconds(5)) async {
        running.cancel()
        let running = running
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await running.value }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Transactions

    /// One write transaction, after the write lock; a database error leaves as a ``StoreFailure``.
    ///
    /// READ COMMITTED whatever the server's default: each statement after the lock then sees
    /// what the previous holder committed (the audit chain's head above all). This instance's
    /// writes queue at the ``WriterGate`` rather than in the database, so that they never hold
    /// every pooled connection while a read waits for one.
    func write<Value: Sendable>(_ body: @escaping @Sendable (SQLSession) async throws -> Value) async throws -> Value {
        try await writerGate.withTurn(waitingAtMost: .milliseconds(Int(configuration.lockTimeout * 1000))) {
            try await transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE", lockingWrites: true, body)
        }
    }

    /// One read-only snapshot: several statements see one state.
    func read<Value: Sendable>(_ body: @escaping @Sendable (SQLSession) async throws -> Value) async throws -> Value {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lockingWrites: false, body)
    }

    /// A read-only snapshot without a time limit, on either side: for a scan of every row, such
    /// as the key inventory, whose time grows with the store.
    func readWithoutTimeLimit<Value: Sendable>(_ body: @escaping @Sendable (SQLSession) async throws -> Value) async throws -> Value {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lockingWrites: false, timeLimited: false) { session in
            try await session.execute("SET LOCAL statement_timeout = 0")
            return try await body(session)
        }
    }

    /// A write learns its transaction's id with the lock, in the same round trip, so that a
    /// COMMIT whose answer is lost can be looked up (``confirmCommit(of:after:)``).
    private func transaction<Value: Sendable>(
        begin: String, lockingWrites: Bool, timeLimited: Bool = true, _ body: @escaping @Sendable (SQLSession) async throws -> Value
    ) async throws -> Value {
        let pending = PendingCommit<Value>()
        do {
            return try await withConnection(timeLimited: timeLimited) { connection in
                let session = SQLSession(connection: connection, logger: self.logger)
                do {
                    // The session's timeouts and durability were set when it started (PostgresStoreConfiguration).
                    try await session.execute(begin)
                    let transaction: Int64? = lockingWrites ? try await session.scalar(Self.lockAndTransactionID, [Self.writeLockKey]) : nil
                    let value = try await body(session)
                    if let transaction {
                        // A caller that has given up (and heard that nothing was written) gets no COMMIT.
                        guard pending.sendingCommit(value, transaction: transaction) else { throw CancellationError() }
                    }
                    try await session.execute("COMMIT")
                    return value
                } catch {
                    // A session that answered the COMMIT with an error of its own did not commit.
                    if Self.sessionSurvives(error) {
                        pending.forget()
                        try? await session.execute("ROLLBACK")
                    } else {
                        // Closed before it goes back to the pool, which would otherwise hand it
                        // out again: a statement on it could wait for ever. Not awaited: over
                        // TLS the close waits for the server's farewell.
                        let _: EventLoopFuture<Void> = connection.close()
                    }
                    throw error
                }
            }
        } catch {
            // The COMMIT went out and its answer was lost with the connection, or never came.
            if let (value, transaction) = pending.unansweredOrAbandoned() {
                try await confirmCommit(of: transaction, after: error)
                return value
            }
            throw StoreFailure.translating(error)
        }
    }

    /// The write lock, then the transaction's id (the lock in a subquery, so that it comes first).
    private static let lockAndTransactionID = "SELECT txid_current() FROM (SELECT pg_advisory_xact_lock(?)) AS locked"

    /// Whether the session is still there to roll back after `error`. A session the server ended
    /// (a FATAL error) or a connection lost is not asked again: over TLS such a ROLLBACK was
    /// seen to wait for an answer that never came.
    private static func sessionSurvives(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return true }
        guard error.code == .server else { return false }
        return !["FATAL", "PANIC"].contains(error.serverInfo?[.severity] ?? "")
    }

    /// Leases a pooled connection for `body`, or fails as unavailable once no connection could be
    /// had within the configured connect timeout: the pool itself would wait for the database
    /// for as long as it takes.
    private func withConnection<Value: Sendable>(
        timeLimited: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let lease = LeaseRace()
        let timeout = configuration.acquireTimeout
        return try await withThrowingTaskGroup(of: LeaseOutcome<Value>.self) { group in
            group.addTask {
                try await self.client.withConnection { connection in
                    guard lease.state.withLock({ state in state.lease() }) else { throw CancellationError() }
                    guard timeLimited else { return .value(try await body(connection)) }
                    return .value(try await self.answeringWithinTheTransactionTimeout(connection) { try await body(connection) })
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                guard lease.state.withLock({ state in state.giveUp() }) else { return .timerDone }
                throw StoreFailure(kind: .unavailable, code: 0, message: "no database connection within \(timeout) s")
            }
            while let outcome = try await group.next() {
                if case let .value(value) = outcome {
                    group.cancelAll()
                    return value
                }
            }
            throw StoreQueryError(message: "a connection lease ended without an outcome")
        }
    }

    /// Runs `body`, or fails as unavailable once it has not finished within the transaction
    /// timeout, and then closes `connection`, which leaves the pool. Without it, an answer lost
    /// with the network, or never delivered on a connection the server closed, would be awaited
    /// for ever, holding this instance's turn to write.
    private func answeringWithinTheTransactionTimeout<Value: Sendable>(
        _ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let limit = configuration.transactionTimeout
        return try await DeadlineRace.run(
            within: .milliseconds(Int(limit * 1000)),
            expired: StoreFailure(kind: .unavailable, code: 0, message: "no answer from the database within \(limit) s; the connection was closed"),
            // Closed before the lease goes back to the pool: queued on its event loop ahead of
            // anything a later holder, or the work left behind, would send on it.
            abandon: { let _: EventLoopFuture<Void> = connection.close() },
            body
        )
    }

    // MARK: Subjects and the audit trail

    package func insert(_ subject: Subject, audit: AuditDraft) async throws {
        try await write { session in
            guard try await session.row("SELECT 1 FROM subject WHERE id = ?", [subject.id.rawValue]) == nil else {
                throw CredentialError.alreadyExists(subject.id)
            }
            if let represented = subject.representsSubjectID,
               try await session.row("SELECT 1 FROM subject WHERE id = ?", [represented.rawValue]) == nil {
                throw CredentialError.notFound(represented)
            }
            try await SubjectRecord.insert(subject, session)
            try await AuditRecords.append([audit], keys: self.auditKeys, session)
        }
    }

    package func subject(_ id: SubjectID) async throws -> Subject? {
        try await read { session in try await SubjectRecord.fetch(id, session) }
    }

    /// One statement, which sees one state by itself: no transaction around it, the most
    /// frequent call's three round trips cut to one.
    package func subjectStatus(_ id: SubjectID) async throws -> SubjectStatus? {
        do {
            return try await withConnection { connection in
                try await SubjectRecord.fetchStatus(id, SQLSession(connection: connection, logger: self.logger))
            }
        } catch {
            throw StoreFailure.translating(error)
        }
    }

    /// One statement on a pooled connection, as the status read: a health check waits for no
    /// transaction, and no more than the connect timeout.
    package func checkReachable() async throws {
        do {
            try await withConnection { connection in try await SQLSession(connection: connection, logger: self.logger).execute("SELECT 1") }
        } catch {
            throw StoreFailure.translating(error)
        }
    }

    package func modify<Value: Sendable>(
        _ id: SubjectID,
        _ change: @escaping @Sendable (inout Subject) throws -> SubjectModification<Value>
    ) async throws -> Value {
        try await write { session in
            guard let previous = try await SubjectRecord.fetch(id, session) else { throw CredentialError.notFound(id) }
            var subject = previous
            let modification = try change(&subject)
            if subject != previous { try await SubjectRecord.update(subject, previous: previous, session) }
            try await AuditRecords.append(modification.audit, keys: self.auditKeys, session)
            return modification.value
        }
    }

    package func append(_ audit: [AuditDraft]) async throws {
        try await write { session in try await AuditRecords.append(audit, keys: self.auditKeys, session) }
    }

    package func auditEvents(subjectID: SubjectID?, afterSeq: Int64, limit: Int) async throws -> [AuditEvent] {
        try await read { session in try await AuditRecords.events(subjectID: subjectID, afterSeq: afterSeq, limit: limit, session) }
    }

    package func verifyAuditChain() async throws -> AuditChainReport {
        try await read { session in try await AuditRecords.verify(keys: self.auditKeys, session) }
    }

    package func keyInventory() async throws -> KeyInventory {
        try await readWithoutTimeLimit { session in
            var inventory = KeyInventory()
            let hashes = try await session.connection.query(
                """
                SELECT hash FROM (
                    SELECT pin_hash AS hash FROM subject UNION ALL SELECT password_hash FROM subject
                    UNION ALL SELECT spoken_password_hash FROM subject UNION ALL SELECT ivr_pin_hash FROM subject
                    UNION ALL SELECT identity_document_hash FROM subject UNION ALL SELECT place_of_birth_hash FROM subject
                    UNION ALL SELECT children_hash FROM subject
                ) AS hashes WHERE hash IS NOT NULL
                """,
                logger: session.logger
            )
            // Streamed: a store of millions of subjects is counted without holding it in memory.
            for try await hash in hashes.decode(String.self) { inventory.addSecretHash(hash) }
            let others = try await session.rows("""
                SELECT pepper_key_id, 'one-time code', count(*) FROM code_challenge WHERE state = 'ACTIVE' GROUP BY 1
                UNION ALL SELECT pepper_key_id, 'outbox delivery', count(*) FROM outbox WHERE state = 'PENDING' GROUP BY 1
                UNION ALL SELECT key_id, 'audit event', count(*) FROM audit_event WHERE key_id IS NOT NULL GROUP BY 1
                UNION ALL SELECT pepper_key_id, 'registration token', count(*) FROM registration_token
                    WHERE state = 'ACTIVE' AND expires_at_ms > (extract(epoch FROM now()) * 1000)::bigint GROUP BY 1
                UNION ALL SELECT facts::jsonb ->> 'keyID', 'link facts', count(*) FROM link_facts GROUP BY 1
                """)
            for row in others {
                inventory.add(keyID: try row[0].decode(String.self), item: try row[1].decode(String.self), count: try row[2].decode(Int.self))
            }
            return inventory
        }
    }
}

/// A connection lease racing its timeout: whichever comes first wins.
private final class LeaseRace: Sendable {
    let state = Mutex(LeaseState.waiting)
}

private enum LeaseState {
    case waiting, leased, abandoned

    /// A connection arrived: use it, unless the caller already gave up.
    mutating func lease() -> Bool {
        guard self == .waiting else { return false }
        self = .leased
        return true
    }

    /// The timeout struck: give up, unless a connection already arrived.
    mutating func giveUp() -> Bool {
        guard self == .waiting else { return false }
        self = .abandoned
        return true
    }
}

private enum LeaseOutcome<Value: Sendable>: Sendable {
    case value(Value)
    case timerDone
}

/// The server runs with a setting under which an acknowledged commit could be lost in a power cut.
package struct PostgresDurabilityError: Error, CustomStringConvertible {
    package let setting: String
    package let value: String
    package var description: String {
        "the PostgreSQL server runs with \(setting) = \(value): a power cut could undo acknowledged failure counts; refusing to start"
    }
}

extension StoreFailure {
    /// PostgreSQL's error as a store failure: a lock wait or a statement past its timeout, a
    /// serialisation failure or a deadlock are busy (retry); a connection lost, refused, or ended
    /// by the server (any FATAL error: a shutdown, a terminated backend, a database closed to
    /// connections), or a server that takes no writes (a standby), is unavailable; the rest are failures with their SQLSTATE. Errors of the rules themselves
    /// pass unchanged.
    static func translating(_ error: any Error) -> any Error {
        if let error = error as? ConnectionPoolError {
            // The pool gave up on the database (its circuit breaker trips after a minute of
            // failed connection attempts) or was shut down: unreachable, not a fault.
            return StoreFailure(kind: .unavailable, code: 0, message: "connection pool: \(error)")
        }
        guard let error = error as? PSQLError else { return error }
        guard error.code == .server else {
            return StoreFailure(kind: .unavailable, code: 0, message: "connection: \(error.code)")
        }
        let state = error.serverInfo?[.sqlState] ?? "?????"
        let message = "SQLSTATE \(state): \(error.serverInfo?[.message] ?? "")"
        // A statement past the statement timeout (57014) is the database overloaded: busy too.
        if ["40001", "40P01", "55P03", "57014"].contains(state) { return StoreFailure(kind: .busy, code: 0, message: message) }
        let severity = error.serverInfo?[.severity] ?? ""
        // 25006: a write on a read-only server, such as a standby a failover has not yet promoted.
        if state.hasPrefix("08") || state.hasPrefix("57P") || ["53300", "25006"].contains(state) || severity == "FATAL" || severity == "PANIC" {
            return StoreFailure(kind: .unavailable, code: 0, message: message)
        }
        return StoreFailure(kind: .failed, code: 0, message: message)
    }
}
