//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Dispatch
import Foundation
import GRDB
import Testing
import VerityCore
import VerityCrypto
@testable import VerityStore
import VerityTestSupport

@Suite("The SQLite store")
struct SQLiteCredentialStoreTests {
    let fixture: ServiceFixture

    init() throws {
        fixture = try ServiceFixture()
    }

    /// A separate, plain connection to the same file: what someone with file access could do.
    func rawConnection() throws -> DatabaseQueue {
        try DatabaseQueue(path: fixture.databasePath)
    }

    @Test func commitsAreDurableAndTheJournalIsWAL() async throws {
        _ = try await fixture.activeClient()
        let pool = try DatabasePool(path: fixture.databasePath)
        #expect(try await pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        // synchronous=FULL is per connection, and only the writer's setting decides whether a
        // commit is fsynced: we ask the writer of a fresh store opened the way the service opens it.
        let store = try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring)
        #expect(try await store.writerPragma("synchronous") == 2)
        #expect(try await store.writerPragma("secure_delete") == 1)
        #expect(try await store.writerPragma("busy_timeout") == 10_000)
    }

    /// The lean status read answers exactly what a status made from the whole subject shows.
    @Test func theStatusReadAgreesWithTheWholeSubject() async throws {
        let active = try await fixture.activeClient("status-1", pin: "4829157", password: "Quiet Orchard 2291")
        _ = try await fixture.service.generateIVRPIN(for: active, context: .agent)
        let blocked = try await fixture.activeClient("status-2")
        for _ in 0..<3 { _ = try await fixture.service.verify(blocked, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        let representative = try SubjectID("status-2/rep")
        _ = try await fixture.service.enroll(representative, kind: .representative, representing: blocked, context: .agent)
        for id in [active, blocked, representative] {
            let whole = try #require(try await fixture.store.subject(id))
            #expect(try await fixture.store.subjectStatus(id) == SubjectStatus(whole))
        }
        #expect(try await fixture.store.subjectStatus(try SubjectID("status-nobody")) == nil)
    }

    /// Databases in the field have run every shipped migration: editing one would leave them
    /// with a schema the code no longer describes. A new migration gets a new line here.
    @Test func shippedMigrationsAreNeverEdited() {
        let pinned = [
            "v1: subjects and the audit trail": "bfaa4d3f96a6e6ed7a8541f18c3d2a9176aa7f7ea1d505c9772dd07b799e3d7f",
            "v2: one-time codes and the notification outbox": "84bb49e9de55e10f51b35fa3f9083e8cb9bba28dae4247b78ff3a3dde7eef9e9",
            "v3: checks in flight, failure serials, outbox leases": "11250ce2a47634285862af10725b1f0b5af3d7e1bb92ecfef01d89d1489e8df7",
            "v4: the audit chain keyed": "0bdc64562b5d77aab82f3fdf577207962c7a7620f704ee8d729dac8694eb67d5",
            "v5: codes counted per destination": "4ab98f566b1b9ccba395799963bd6b92931520a5ec3ac80ef14a40fa56c0e5c0",
            "v6: facts on file for the fallback identity check": "dd3729ec3ca123e42006736f9bff6688b99b6b19d34d0e1349e3a91be5f849ae",
            "v7: recovery requests awaiting an identity document": "8074fbe97202cb9b601cdcc6781b29d67e368cdf55082b8e91483d7e83f79d42",
            "v8: change requests, and letters in the outbox": "9e1f18b1bc06b5db130f2c901ec88e5cfd320219cd73fbe29bdfae0a2f69f0d1",
            "v9: portal registration, verified codes as grants, portal account links": "5816d34f66c26d5d7617ea71319ae3daeda112c3f6d897620c7cd5834f4a1b9b",
        ]
        for migration in SQLiteCredentialStore.migrations {
            let digest = SHA256.digest(Array(migration.sql.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(pinned[migration.name] == digest, "migration \(migration.name) was edited, or is new and not pinned: \(digest)")
        }
        #expect(SQLiteCredentialStore.migrations.count == pinned.count)
    }

    /// Another process holding the write lock past the busy timeout: the call fails as busy,
    /// writes nothing, and the server answers UNAVAILABLE STORE_BUSY (retry).
    @Test func aLockedDatabaseIsABusyFailureThatWritesNothing() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        let impatient = try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring, busyTimeout: 0.05)
        let service = try CredentialService(store: impatient, hasher: fixture.hasher, keyring: fixture.hasher.keyring)
        let holder = try rawConnection()
        let before = try await fixture.service.auditEvents().count
        let (locked, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        // Another process's writer, holding the write lock until the check below is done.
        DispatchQueue.global().async {
            try? holder.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                release.wait()
                try db.execute(sql: "ROLLBACK")
            }
        }
        locked.wait()
        await #expect { try await service.unblock(id, reason: "busy", context: .admin) } throws: { error in
            (error as? StoreFailure)?.kind == .busy
        }
        release.signal()
        #expect(try await fixture.service.auditEvents().count == before)
    }

    @Test func reopeningKeepsDataAndMigratesOnce() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        try fixture.store.close()
        let reopened = try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring)
        #expect(try await reopened.subject(id)?.state == .active)
        let migrations = try await rawConnection().read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grdb_migrations") }
        #expect(migrations == SQLiteCredentialStore.migrator.migrations.count)
    }

    @Test func theAuditTableRefusesUpdatesAndDeletes() async throws {
        _ = try await fixture.activeClient()
        let db = try rawConnection()
        #expect(throws: DatabaseError.self) { try db.write { try $0.execute(sql: "UPDATE audit_event SET outcome = 'X' WHERE seq = 1") } }
        #expect(throws: DatabaseError.self) { try db.write { try $0.execute(sql: "DELETE FROM audit_event WHERE seq = 1") } }
        #expect(try await fixture.service.verifyAuditChain().ok)
    }

    @Test func tamperingWithOneRowByHandIsNamedByTheChainCheck() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        for _ in 0..<3 { _ = try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        _ = try await fixture.service.unblock(id, reason: "identity confirmed", context: .admin)
        #expect(try await fixture.service.verifyAuditChain().ok)
        // Someone with file access removes the guard and rewrites a failed check as a success.
        try await rawConnection().write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_is_append_only_update")
            try db.execute(sql: "UPDATE audit_event SET outcome = 'VERIFIED' WHERE seq = 4")
        }
        let report = try await fixture.service.verifyAuditChain()
        #expect(report.firstBadSeq == 4)
        #expect(report.headSeq == 3)
        #expect(!report.ok)
    }

    @Test func deletingARowIsNamedByTheChainCheck() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        _ = try await fixture.service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier)
        _ = try await fixture.service.verify(id, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
        try await rawConnection().write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_is_append_only_delete")
            try db.execute(sql: "DELETE FROM audit_event WHERE seq = 3")
        }
        #expect(try await fixture.service.verifyAuditChain().firstBadSeq == 4)
    }

    @Test func aRowThatNoLongerDecodesIsNamedToo() async throws {
        _ = try await fixture.activeClient(pin: "4829157")
        try await rawConnection().write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_is_append_only_update")
            try db.execute(sql: "UPDATE audit_event SET facts = 'not json' WHERE seq = 2")
        }
        #expect(try await fixture.service.verifyAuditChain().firstBadSeq == 2)
    }

    /// A reservation is its own record: it survives a restart, and it is gone once its check finishes.
    @Test func reservationsAreKeptUntilTheirCheckFinishes() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        let now = Date()
        for n in 0..<3 {
            let decision = try await fixture.store.modify(id) { subject in
                let reservation = CheckLock.reserve(&subject, check: "check-\(n)", slots: [.pin], now: now, limit: 3, longestCheck: 120)
                return SubjectModification(reservation.decision, audit: [])
            }
            #expect((try? decision.get())?.id == "check-\(n)")
        }
        try fixture.store.close()
        let reopened = try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring)
        var subject = try #require(try await reopened.subject(id))
        #expect(subject.pendingChecks.map(\.id) == ["check-0", "check-1", "check-2"])
        let refused = CheckLock.reserve(&subject, check: "check-3", slots: [.pin], now: now, limit: 3, longestCheck: 120)
        #expect(refused.decision == .failure(CheckLock.RefusalError(refusal: .checksInProgress)))
        try await reopened.modify(id) { subject in
            SubjectModification(CheckLock.finish(&subject, check: "check-1", matched: false, limit: 3, now: now), audit: [])
        }
        let after = try #require(try await reopened.subject(id))
        #expect(after.pendingChecks.map(\.id) == ["check-0", "check-2"])
        #expect(after.consecutiveFailures == 1)
        #expect(after.failureSerial == 1)
    }

    @Test func aFailedModificationWritesNothing() async throws {
        let id = try await fixture.activeClient(pin: "4829157")
        let before = try await fixture.store.subject(id)
        let eventsBefore = try await fixture.service.auditEvents().count
        await #expect(throws: CredentialError.self) {
            try await fixture.store.modify(id) { subject -> SubjectModification<Void> in
                subject.state = .blocked
                subject.consecutiveFailures = 3
                throw CredentialError.failedPrecondition(reason: "TEST", message: "abandoned half-way")
            }
        }
        #expect(try await fixture.store.subject(id) == before)
        #expect(try await fixture.service.auditEvents().count == eventsBefore)
    }

    @Test func theSchemaRefusesValuesTheCodeCannotRead() async throws {
        _ = try await fixture.activeClient("checked")
        #expect(throws: DatabaseError.self) {
            try rawConnection().write { try $0.execute(sql: "UPDATE subject SET state = 'HALF_BLOCKED'") }
        }
        #expect(throws: DatabaseError.self) {
            try rawConnection().write { try $0.execute(sql: "UPDATE subject SET consecutive_failures = -1") }
        }
    }
}
