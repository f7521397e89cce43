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
import _ConnectionPoolModule
import Synchronization
import Testing
import VerityCore
import VerityCrypto
@testable import VerityPostgres
import VerityTestSupport

/// What only the PostgreSQL store has to prove: its schema's history, the database going away,
/// a writer held up, and what lies in its tables.
@Suite(
    "The PostgreSQL store",
    .enabled(if: PostgresTestCluster.isAvailable, Comment(rawValue: PostgresTestCluster.unavailableReason))
)
struct PostgresCredentialStoreTests {
    let hasher: CountingHasher

    init() throws {
        hasher = try CountingHasher()
    }

    /// A store on a new database and a service over it, closed after `body`.
    func withService(
        lockTimeout: TimeInterval? = nil, _ body: (PostgresCredentialStore, CredentialService, String) async throws -> Void
    ) async throws {
        let (store, url) = try await PostgresTestCluster.makeStore(keyring: hasher.keyring, lockTimeout: lockTimeout)
        do {
            let service = try CredentialService(store: store, hasher: hasher, keyring: hasher.keyring)
            try await body(store, service, url)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    func enrolled(_ service: CredentialService, _ id: String = "pg-1") async throws -> SubjectID {
        let subject = try SubjectID(id)
        _ = try await service.enroll(subject, kind: .client, contacts: Contacts(emails: ["\(id)@example.org"]), context: .agent)
        _ = try await service.setSecurityDetails(subject, SecurityFactors(pin: "4829157", password: "Quiet Orchard 2291"), context: .agent)
        return subject
    }

    /// A change of a subject with its audit event: two failures, "unblocked".
    @Sendable static func twoFailures(_ subject: inout Subject) -> SubjectModification<Void> {
        subject.consecutiveFailures = 2
        return SubjectModification((), audit: [AuditDraft(time: Date(), context: .admin, subjectID: subject.id, action: .unblock, outcome: "OK")])
    }

    /// Databases in the field have run every shipped migration: a new one gets a new line here.
    @Test func shippedMigrationsAreNeverEdited() {
        let pinned = [
            "v1: subjects, the audit trail, codes and the outbox, recovery, change requests, portal and links":
                "aaae05155a6860901ee5122dd270e711edd311eae672ac38df92ac4fb6fa6d9a",
        ]
        for migration in PostgresCredentialStore.migrations {
            #expect(pinned[migration.name] == PostgresCredentialStore.digest(of: migration.statements), "\(migration.name)")
        }
        #expect(PostgresCredentialStore.migrations.count == pinned.count)
    }

    /// A second instance migrates nothing; a database whose history differs from this build's is refused.
    @Test func aDatabaseMigratedDifferentlyIsRefused() async throws {
        try await withService { _, _, url in
            let again = try await PostgresTestCluster.openStore(url, keyring: hasher.keyring)
            await again.close()
            try await PostgresTestCluster.withSession(url) { client in
                #expect(try await client.values("SELECT count(*) FROM verity_schema_migration", Int.self) == [1])
                try await client.run("UPDATE verity_schema_migration SET sha256 = 'edited'")
            }
            await #expect(throws: SchemaMismatchError.self) { try await PostgresTestCluster.openStore(url, keyring: hasher.keyring) }
        }
    }

    /// An inspection (`verityd keys inventory`) of a database that holds no store is refused, and
    /// leaves it empty: a mistyped name must not read as "no key in use".
    @Test func anInspectionNeverMigrates() async throws {
        let url = try await PostgresTestCluster.makeDatabase()
        let store = PostgresCredentialStore(configuration: try PostgresStoreConfiguration(url: url), keyring: hasher.keyring, logger: .init(label: "test"))
        await #expect(throws: SchemaMismatchError.self) { try await store.prepare(migrating: false) }
        await store.close()
        let tables = try await PostgresTestCluster.withSession(url) { try await $0.values("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", Int.self) }
        #expect(tables == [0])
    }

    /// An inspection of a database a newer Verity migrated is refused too: this build would not
    /// count the keys its newer tables use.
    @Test func anInspectionRefusesASchemaFromANewerBuild() async throws {
        let (store, url) = try await PostgresTestCluster.makeStore(keyring: hasher.keyring)
        await store.close()
        try await PostgresTestCluster.withSession(url) { try await $0.run("INSERT INTO verity_schema_migration (name, sha256) VALUES ('v2: from the future', 'x')") }
        let inspecting = PostgresCredentialStore(configuration: try PostgresStoreConfiguration(url: url), keyring: hasher.keyring, logger: .init(label: "test"))
        await #expect { try await inspecting.prepare(migrating: false) } throws: { error in
            (error as? SchemaMismatchError)?.migration == "v2: from the future"
        }
        await inspecting.close()
    }

    /// A statement past its timeout is busy (retry later), and a write refused by a server that
    /// takes no writes (a standby not yet promoted) is unavailable: neither is a fault of Verity.
    @Test func aStatementTimeoutIsBusyAndAReadOnlyServerUnavailable() async throws {
        try await withService { store, _, _ in
            await #expect { try await store.read { try await $0.execute("SET LOCAL statement_timeout = 50"); try await $0.execute("SELECT pg_sleep(2)") } } throws: { error in
                (error as? StoreFailure)?.kind == .busy
            }
            await #expect { try await store.read { try await $0.execute("CREATE TABLE refused (id int)") } } throws: { error in
                (error as? StoreFailure)?.kind == .unavailable && "\(error)".contains("25006")
            }
        }
    }

    /// Writes are READ COMMITTED whatever the server's default: under REPEATABLE READ the head
    /// of the chain would be read from before the write lock was taken.
    @Test func theChainHoldsWhateverTheServersDefaultIsolation() async throws {
        let url = try await PostgresTestCluster.makeDatabase()
        let name = PostgresTestCluster.databaseName(of: url)
        try await PostgresTestCluster.withSession(url) { try await $0.run("ALTER DATABASE \(name) SET default_transaction_isolation = 'repeatable read'") }
        let stores = [try await PostgresTestCluster.openStore(url, keyring: hasher.keyring), try await PostgresTestCluster.openStore(url, keyring: hasher.keyring)]
        let services = try stores.map { try CredentialService(store: $0, hasher: hasher, keyring: hasher.keyring) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<30 {
                let service = services[index % 2]
                group.addTask { _ = try await service.enroll(try SubjectID("pg-iso-\(index)"), kind: .client, context: .agent) }
            }
            try await group.waitForAll()
        }
        #expect(try await services[0].verifyAuditChain().ok)
        #expect(try await services[1].auditEvents(limit: 100).count == 30)
        for store in stores { await store.close() }
    }

    /// The pool's own refusals (its circuit breaker after a minute without the database, a pool
    /// shut down) are the database being unreachable, not a fault of the service.
    @Test func thePoolsRefusalsAreUnavailable() throws {
        for error in [ConnectionPoolError.connectionCreationCircuitBreakerTripped, .poolShutdown] {
            #expect((StoreFailure.translating(error) as? StoreFailure)?.kind == .unavailable)
        }
        #expect(StoreFailure.translating(CredentialError.notFound(try SubjectID("pg-1"))) as? CredentialError == .notFound(try SubjectID("pg-1")))
    }

    @Test func theAuditTableRefusesUpdatesDeletesAndTruncation() async throws {
        try await withService { _, service, url in
            _ = try await enrolled(service)
            try await PostgresTestCluster.withSession(url) { client in
                for statement in ["UPDATE audit_event SET outcome = 'FORGED'", "DELETE FROM audit_event", "TRUNCATE audit_event"] {
                    await #expect(throws: PSQLError.self, "\(statement)") { try await client.run(statement) }
                }
            }
            #expect(try await service.verifyAuditChain().ok)
        }
    }

    /// A database nobody answers for is UNAVAILABLE after the connect timeout (1 s), not a hang:
    /// the pool alone would wait for as long as it takes. (The bound is loose: a machine running
    /// every suite at once was seen to take over 10 s to get there.)
    @Test func anUnreachableDatabaseIsUnavailable() async throws {
        let closedPort = try freeLoopbackPort()
        let configuration = try PostgresStoreConfiguration(url: "postgres://verity@127.0.0.1:\(closedPort)/verity?connect_timeout=1")
        let store = PostgresCredentialStore(configuration: configuration, keyring: hasher.keyring, logger: .init(label: "test"))
        let started = ContinuousClock.now
        await #expect { try await store.subject(try SubjectID("pg-1")) } throws: { error in
            (error as? StoreFailure)?.kind == .unavailable
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        await store.close()
    }

    /// The connection breaks after the act changed the subject and before its audit event was
    /// written: nothing of it remains, the caller hears UNAVAILABLE, and the next call goes through.
    @Test func aConnectionLostMidTransactionWritesNothingAndTheStoreRecovers() async throws {
        try await withService { store, service, url in
            let subject = try await enrolled(service)
            let eventsBefore = try await service.auditEvents(limit: 1000).count
            // Every audit insert now waits for a lock that a connection of its own holds.
            try await PostgresTestCluster.withSession(url) { holder in
                do {
                    try await holder.run("SELECT pg_advisory_lock(77)")
                    try await PostgresTestCluster.withSession(url) { admin in
                        try await admin.run("""
                            CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
                            BEGIN PERFORM pg_advisory_xact_lock_shared(77); RETURN NEW; END $$
                            """)
                        try await admin.run("CREATE TRIGGER stall BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION stall()")
                        let act = Task { try await store.modify(subject, Self.twoFailures) }
                        try await waitUntil {
                            try await admin.values("""
                                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit_event%'
                                """, Bool.self) == [true]
                        }
                        await #expect { try await act.value } throws: { error in (error as? StoreFailure)?.kind == .unavailable }
                        try await admin.run("DROP TRIGGER stall ON audit_event")
                    }
                    try await holder.run("SELECT pg_advisory_unlock(77)")
                }
            }
            #expect(try await store.subject(subject)?.consecutiveFailures == 0)
            #expect(try await service.auditEvents(limit: 1000).count == eventsBefore)
            _ = try await service.verify(subject, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier)
            #expect(try await store.subject(subject)?.consecutiveFailures == 1)
            #expect(try await service.verifyAuditChain().ok)
        }
    }

    /// Another writer holding the write lock past the lock timeout makes a write busy, not a hang,
    /// and it writes nothing.
    @Test func aWriterHeldUpPastTheLockTimeoutIsBusyAndWritesNothing() async throws {
        try await withService(lockTimeout: 0.5) { store, service, url in
            let subject = try await enrolled(service)
            try await PostgresTestCluster.withSession(url) { holder in
                do {
                    let key = PostgresCredentialStore.writeLockKey
                    try await holder.run("SELECT pg_advisory_lock(\(key))")
                    await #expect { try await store.modify(subject, Self.twoFailures) } throws: { error in
                        (error as? StoreFailure)?.kind == .busy
                    }
                    try await holder.run("SELECT pg_advisory_unlock(\(key))")
                }
            }
            #expect(try await store.subject(subject)?.consecutiveFailures == 0)
            #expect(try await service.auditEvents(for: subject, limit: 100).allSatisfy { $0.action != .unblock })
            try await store.modify(subject, Self.twoFailures)
            #expect(try await store.subject(subject)?.consecutiveFailures == 2)
        }
    }

    /// A transaction whose answer does not come within the transaction timeout is given up: the
    /// connection is closed, the caller hears UNAVAILABLE, and this instance's next write goes
    /// through (an answer lost with the network would otherwise be awaited for ever).
    @Test func aTransactionWithoutAnAnswerIsGivenUpAndTheNextWriteGoesThrough() async throws {
        try await withService { _, service, url in
            let subject = try await enrolled(service)
            // Long enough for any statement of a loaded test machine; the store is already migrated.
            var configuration = try PostgresStoreConfiguration(url: url)
            configuration.transactionTimeout = 5
            let store = PostgresCredentialStore(configuration: configuration, keyring: hasher.keyring, logger: Logger(label: "test.postgres"))
            await #expect { try await store.write { session in try await session.execute("SELECT pg_sleep(60)") } } throws: { error in
                (error as? StoreFailure)?.kind == .unavailable && "\(error)".contains("no answer")
            }
            // The server ends the abandoned session once it notices (keepalives): here at once.
            try await PostgresTestCluster.withSession(url) { admin in
                try await admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(60)'")
            }
            try await store.modify(subject, Self.twoFailures)
            #expect(try await store.subject(subject)?.consecutiveFailures == 2)
            await store.close()
        }
    }

    /// A COMMIT whose answer is lost (here: its connection closed by the transaction timeout
    /// while a deferred trigger holds the commit up) is looked up: the act was written, so the
    /// caller hears that it was, not UNAVAILABLE, and a retry does not count it twice.
    @Test func aCommitWhoseAnswerIsLostIsLookedUp() async throws {
        try await withService { _, service, url in
            let subject = try await enrolled(service)
            try await Self.holdCommitsUp(seconds: 6, on: url)
            var configuration = try PostgresStoreConfiguration(url: url)
            configuration.transactionTimeout = 3
            let store = PostgresCredentialStore(configuration: configuration, keyring: hasher.keyring, logger: Logger(label: "test.postgres"))
            try await store.modify(subject, Self.twoFailures)
            await store.close()
            #expect(try await service.auditEvents(for: subject, limit: 100).filter { $0.action == .unblock }.count == 1)
            let failures = try await PostgresTestCluster.withSession(url) { try await $0.values("SELECT consecutive_failures FROM subject", Int.self) }
            #expect(failures == [2])
        }
    }

    /// A COMMIT cut short by the server (its backend terminated mid-commit) is looked up too:
    /// it was aborted, so the caller hears UNAVAILABLE with nothing written, and may retry.
    ///
    /// Over TLS, postgres-nio now and then misses the end of a session the server terminated,
    /// and the COMMIT waits on (seen once in eight runs): the transaction timeout, 5 s here, ends
    /// that wait, and the lookup gives the same answer.
    @Test func aCommitTheServerCutShortIsLookedUpAndWroteNothing() async throws {
        try await withService { original, service, url in
            var configuration = try PostgresStoreConfiguration(url: url)
            configuration.transactionTimeout = 5
            let store = PostgresCredentialStore(configuration: configuration, keyring: hasher.keyring, logger: Logger(label: "test.postgres"))
            let subject = try await enrolled(service)
            try await Self.holdCommitsUp(seconds: 60, on: url)
            let act = Task { try await store.modify(subject, Self.twoFailures) }
            try await PostgresTestCluster.withSession(url) { admin in
                let committing = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'COMMIT' AND state = 'active'"
                try await waitUntil(timeout: .seconds(30)) { try await !admin.values(committing, Int32.self).isEmpty }
                try await admin.run("SELECT pg_terminate_backend(pid) FROM (\(committing)) AS committing")
            }
            await #expect { try await act.value } throws: { error in
                (error as? StoreFailure)?.kind == .unavailable && "\(error)".contains("nothing was written")
            }
            await store.close()
            #expect(try await original.subject(subject)?.consecutiveFailures == 0)
            #expect(try await service.auditEvents(for: subject, limit: 100).allSatisfy { $0.action != .unblock })
        }
    }

    /// Makes every COMMIT of a change to a subject take `seconds`: a deferred trigger sleeps.
    static func holdCommitsUp(seconds: Int, on url: String) async throws {
        try await PostgresTestCluster.withSession(url) { admin in
            try await admin.run("CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(\(seconds)); RETURN NULL; END $$")
            try await admin.run("""
                CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON subject DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION slow_commit()
                """)
        }
    }

    /// Writes that wait for the write lock hold no pooled connection while they wait: a read is
    /// served at once although more writes wait than the pool has connections.
    @Test func aReadIsServedWhileMoreWritesThanConnectionsWaitForTheLock() async throws {
        try await withService { store, service, url in
            let subject = try await enrolled(service)
            let small = try await PostgresTestCluster.openStore(PostgresTestCluster.url(url, options: "pool_max=4"), keyring: hasher.keyring)
            // Two connections open before the writes come, so that the read needs no new one:
            // opening one can take seconds on a machine running every suite at once.
            let started = Arrivals()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await small.read { _ in
                            started.arrive()
                            try await waitUntil(timeout: .seconds(60)) { started.count == 2 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await PostgresTestCluster.withSession(url) { holder in
                let key = PostgresCredentialStore.writeLockKey
                try await holder.run("SELECT pg_advisory_lock(\(key))")
                let writes = (0..<8).map { _ in Task { try await small.modify(subject, Self.twoFailures) } }
                try await waitUntil(timeout: .seconds(30)) {
                    let waiting = try await holder.values(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'", Int.self
                    )
                    return waiting.first ?? 0 > 0
                }
                // Without the gate the read waits for as long as the lock is held: give up after 10 s.
                let read = await Self.withinTenSeconds { try await small.subject(subject) }
                try await holder.run("SELECT pg_advisory_unlock(\(key))")
                #expect(try read.get()?.id == subject, "\(read)")
                for write in writes { try await write.value }
            }
            await small.close()
            #expect(try await service.auditEvents(for: subject, limit: 100).filter { $0.action == .unblock }.count == 8)
        }
    }

    /// How many tasks have arrived somewhere.
    final class Arrivals: Sendable {
        private let arrived = Mutex(0)
        func arrive() { arrived.withLock { $0 += 1 } }
        var count: Int { arrived.withLock { $0 } }
    }

    /// What `body` gives within 10 s, or ``TimedOut``.
    static func withinTenSeconds<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async -> Result<Value, any Error> {
        await withTaskGroup(of: Result<Value, any Error>.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return .failure(TimedOut())
            }
            let first = await group.next() ?? .failure(TimedOut())
            group.cancelAll()
            return first
        }
    }

    /// `sslmode=require` speaks TLS to the database; `verify-full` does so only with a server
    /// certificate that chains to its root and names the host, and is refused otherwise.
    @Test func theStoreSpeaksTLSAndVerifiesTheServerWhenAskedTo() async throws {
        let base = try PostgresTestCluster.location.get()
        let certificate = try await PostgresTestCluster.withSession(base) { try await $0.values("SHOW ssl_cert_file", String.self).first ?? "" }
        guard certificate.hasPrefix("/"), FileManager.default.fileExists(atPath: certificate) else {
            try Test.cancel("the test cluster serves no TLS (it was started without openssl)")
        }
        let database = try await PostgresTestCluster.makeDatabase().replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        for options in ["sslmode=require", "sslmode=verify-full&sslrootcert=\(certificate)"] {
            let store = try await PostgresTestCluster.openStore(PostgresTestCluster.url(database, options: options), keyring: hasher.keyring)
            let encrypted: Bool = try await store.read { try await $0.scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") }
            #expect(encrypted, "\(options)")
            await store.close()
        }
        // The system's roots do not vouch for the cluster's self-signed certificate.
        let unverifiable = PostgresTestCluster.url(database, options: "sslmode=verify-full&connect_timeout=2")
        await #expect { try await PostgresTestCluster.openStore(unverifiable, keyring: hasher.keyring) } throws: { error in
            (error as? StoreFailure)?.kind == .unavailable
        }
    }

    /// A store URL's password never shows: not in its description, not in its errors.
    @Test func aURLNeverShowsItsPassword() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgres://verity:s3cret-pw@db.example:6543/verity?sslmode=require&pool_max=8")
        #expect(!configuration.description.contains("s3cret-pw"))
        #expect(configuration.client.options.maximumConnections == 8)
        #expect(configuration.client.port == 6543)
        for bad in [
            "postgres://verity:s3cret-pw@db.example/", "postgres://:s3cret-pw@db.example/verity",
            "postgres://verity:s3cret-pw@db.example/verity?sslmode=sometimes", "postgres://verity:s3cret-pw@db.example/verity?pool_max=0",
            "postgres://verity:s3cret-pw@db.example/verity?colour=blue", "postgres://verity:s3cret-pw@db.example/verity?sslmode=verify-ca",
        ] {
            #expect { try PostgresStoreConfiguration(url: bad) } throws: { error in
                error is InvalidPostgresURLError && !"\(error)".contains("s3cret-pw")
            }
        }
        #expect(try PostgresStoreConfiguration(url: "postgres://verity@db.example/verity", environment: ["PGPASSWORD": "from-env"]).client.password == "from-env")
    }

    /// No PIN, password, IVR PIN or one-time code lies in any table in plaintext, not even in the
    /// outbox once the code was delivered.
    @Test func noSecretIsStoredInPlaintext() async throws {
        try await withService { _, service, url in
            let subject = try await enrolled(service)
            let ivr = try await service.generateIVRPIN(for: subject, context: .agent)
            _ = try await service.issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
            let notifier = CallContext(caller: "mail-gateway", role: "notifier")
            let delivery = try #require(try await service.leaseDeliveries(max: 1, leaseSeconds: 60, context: notifier).first)
            let code = try #require(delivery.content.variables["code"])
            let secrets = ["4829157", "Quiet Orchard 2291", ivr.pin, code]
            // The table dump shows binary columns (the sealed outbox) as hex: look for that too.
            let hexFragments = secrets.map { $0.utf8.map { String(format: "%02x", $0) }.joined() }
            let everything = try await PostgresTestCluster.withSession(url) { client in
                var text = ""
                let tables = try await client.values("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", String.self)
                for table in tables {
                    for row in try await client.values("SELECT t::text FROM \(table) t", String.self) {
                        text += row + "\n"
                    }
                }
                return text
            }
            #expect(everything.contains(subject.rawValue), "the dump reads the tables")
            for secret in secrets + hexFragments { #expect(!everything.contains(secret), "a secret lies in the database") }
            try await service.acknowledgeDelivery(delivery.id, leaseToken: delivery.leaseToken, outcome: .sent, context: notifier)
            let sealed = try await PostgresTestCluster.withSession(url) {
                try await $0.values("SELECT count(*) FROM outbox WHERE sealed_content IS NOT NULL", Int.self)
            }
            #expect(sealed == [0], "a delivered message keeps no content")
        }
    }

    /// A store logging at trace level writes no row it reads: postgres-nio's trace lines would
    /// show lease tokens and hashes.
    @Test func traceLoggingShowsNoRow() async throws {
        let capture = LogCapture()
        let url = try await PostgresTestCluster.makeDatabase()
        let store = PostgresCredentialStore(configuration: try PostgresStoreConfiguration(url: url), keyring: hasher.keyring, logger: capture.logger())
        try await store.prepare()
        let service = try CredentialService(store: store, hasher: hasher, keyring: hasher.keyring)
        let subject = try await enrolled(service)
        _ = try await service.issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
        let notifier = CallContext(caller: "mail-gateway", role: "notifier")
        let delivery = try #require(try await service.leaseDeliveries(max: 1, leaseSeconds: 60, context: notifier).first)
        _ = try await store.subject(subject)
        await store.close()
        let secrets = [delivery.leaseToken, delivery.content.variables["code"] ?? "?"]
        let hex = secrets.map { $0.utf8.map { String(format: "%02x", $0) }.joined(separator: " ") }
        for secret in secrets + hex { #expect(!capture.text.contains(secret), "the log holds a secret") }
        #expect(!capture.text.contains("DataRow"), "the log holds a row")
    }
}
