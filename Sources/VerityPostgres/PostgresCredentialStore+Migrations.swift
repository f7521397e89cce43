//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresNIO
import VerityCore
import VerityCrypto

extension PostgresCredentialStore {
    /// The schema's history, oldest first: a name and its statements, one per query (PostgreSQL's
    /// extended protocol runs one statement at a time).
    ///
    /// The tables are the SQLite store's, column for column, with times in milliseconds as there;
    /// the ids that pages are cut on sort bytewise (`COLLATE "C"`), as SQLite's do.
    ///
    /// - Important: A migration that has shipped is never edited: databases in the field have
    ///   already run it. Every change is a new migration appended here. A test pins each shipped
    ///   migration by its SHA-256, and ``migrate()`` refuses a database that ran a different text
    ///   under the same name.
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1: subjects, the audit trail, codes and the outbox, recovery, change requests, portal and links",
            [
                """
                CREATE TABLE subject (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('CLIENT', 'REPRESENTATIVE')),
                    represents_subject_id TEXT COLLATE "C" REFERENCES subject(id),
                    state TEXT NOT NULL CHECK (state IN ('NOT_SET_UP', 'DEFAULTS_APPLIED', 'ACTIVE', 'BLOCKED')),
                    consecutive_failures BIGINT NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
                    failure_serial BIGINT NOT NULL DEFAULT 0 CHECK (failure_serial >= 0),
                    blocked_at_ms BIGINT,
                    block_reason TEXT,
                    pin_hash TEXT,
                    password_hash TEXT,
                    spoken_password_hash TEXT,
                    ivr_pin_hash TEXT,
                    ivr_pin_updated_at_ms BIGINT,
                    identity_document_hash TEXT,
                    place_of_birth_hash TEXT,
                    children_hash TEXT,
                    contacts TEXT NOT NULL,
                    created_at_ms BIGINT NOT NULL,
                    updated_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX subject_by_represented ON subject(represents_subject_id)",
                """
                CREATE TABLE check_reservation (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    subject_id TEXT COLLATE "C" NOT NULL REFERENCES subject(id),
                    reserved_at_ms BIGINT NOT NULL,
                    seen_failure_serial BIGINT NOT NULL
                )
                """,
                "CREATE INDEX check_reservation_by_subject ON check_reservation(subject_id, reserved_at_ms)",
                """
                CREATE TABLE audit_event (
                    seq BIGINT PRIMARY KEY CHECK (seq > 0),
                    time_ms BIGINT NOT NULL,
                    caller TEXT NOT NULL,
                    role TEXT NOT NULL,
                    actor TEXT,
                    subject_id TEXT COLLATE "C",
                    method TEXT NOT NULL,
                    action TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    facts TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    key_id TEXT,
                    hash TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_event_by_subject ON audit_event(subject_id, seq)",
                """
                CREATE FUNCTION verity_audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'the audit trail is append-only';
                END
                $$
                """,
                """
                CREATE TRIGGER audit_event_is_append_only BEFORE UPDATE OR DELETE ON audit_event
                FOR EACH ROW EXECUTE FUNCTION verity_audit_event_is_append_only()
                """,
                """
                CREATE TRIGGER audit_event_is_never_truncated BEFORE TRUNCATE ON audit_event
                FOR EACH STATEMENT EXECUTE FUNCTION verity_audit_event_is_append_only()
                """,
                """
                CREATE TABLE code_challenge (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    subject_id TEXT COLLATE "C" NOT NULL REFERENCES subject(id),
                    purpose TEXT NOT NULL,
                    channel TEXT NOT NULL CHECK (channel IN ('EMAIL', 'SMS')),
                    masked_destination TEXT NOT NULL,
                    destination_key TEXT NOT NULL,
                    code_mac TEXT NOT NULL,
                    pepper_key_id TEXT NOT NULL,
                    failed_attempts BIGINT NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
                    state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'USED', 'REPLACED', 'EXHAUSTED')),
                    created_at_ms BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL,
                    verified_at_ms BIGINT,
                    redeemed_at_ms BIGINT
                )
                """,
                "CREATE INDEX code_challenge_by_subject ON code_challenge(subject_id, created_at_ms)",
                "CREATE INDEX code_challenge_by_destination ON code_challenge(destination_key, created_at_ms)",
                """
                CREATE TABLE outbox (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    channel TEXT NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'LETTER')),
                    sealed_content BYTEA,
                    pepper_key_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('PENDING', 'SENT', 'FAILED', 'EXPIRED')),
                    leased_until_ms BIGINT,
                    lease_token TEXT,
                    challenge_id TEXT COLLATE "C",
                    change_request_id TEXT COLLATE "C",
                    attempts BIGINT NOT NULL DEFAULT 0,
                    created_at_ms BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL,
                    CHECK (state = 'PENDING' OR sealed_content IS NULL)
                )
                """,
                "CREATE INDEX outbox_by_state ON outbox(state, created_at_ms)",
                "CREATE INDEX outbox_by_challenge ON outbox(challenge_id)",
                "CREATE INDEX outbox_by_change_request ON outbox(change_request_id)",
                """
                CREATE TABLE recovery_request (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    subject_id TEXT COLLATE "C" NOT NULL REFERENCES subject(id),
                    status TEXT NOT NULL CHECK (status IN ('AWAITING_DOCUMENT', 'DOCUMENT_CONFIRMED', 'EXPIRED')),
                    opened_at_ms BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL,
                    closed_at_ms BIGINT
                )
                """,
                "CREATE INDEX recovery_request_by_subject ON recovery_request(subject_id, status)",
                """
                CREATE TABLE change_request (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    subject_id TEXT COLLATE "C" NOT NULL REFERENCES subject(id),
                    source TEXT NOT NULL CHECK (source IN ('PHONE', 'LETTER', 'SELF_SERVICE')),
                    reason TEXT NOT NULL CHECK (reason IN ('BLOCKED_AFTER_FAILED_CHECKS', 'CLIENT_REQUEST')),
                    reported_by TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('OPEN', 'IN_PROGRESS', 'WAITING', 'ACCEPTED', 'DECLINED', 'CLOSED')),
                    due_at_ms BIGINT,
                    created_at_ms BIGINT NOT NULL,
                    updated_at_ms BIGINT NOT NULL,
                    form_sent_at_ms BIGINT,
                    reminder_sent_at_ms BIGINT,
                    form_received_at_ms BIGINT,
                    closed_at_ms BIGINT,
                    resolution_reason TEXT,
                    confirmation TEXT CHECK (confirmation IN ('SMS', 'LETTER', 'EMAIL', 'NONE'))
                )
                """,
                """
                CREATE UNIQUE INDEX change_request_one_active_per_subject ON change_request(subject_id)
                    WHERE status IN ('OPEN', 'IN_PROGRESS', 'WAITING')
                """,
                "CREATE INDEX change_request_by_creation ON change_request(created_at_ms, id)",
                "CREATE INDEX change_request_by_subject ON change_request(subject_id, created_at_ms)",
                "CREATE INDEX change_request_by_due_time ON change_request(status, due_at_ms, id)",
                """
                CREATE TABLE registration_token (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    subject_id TEXT COLLATE "C" NOT NULL REFERENCES subject(id),
                    secret_mac TEXT NOT NULL,
                    pepper_key_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'USED', 'REPLACED')),
                    created_at_ms BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL,
                    used_at_ms BIGINT,
                    destination_key TEXT NOT NULL
                )
                """,
                "CREATE INDEX registration_token_by_subject ON registration_token(subject_id, state)",
                """
                CREATE TABLE link_facts (
                    subject_id TEXT COLLATE "C" PRIMARY KEY REFERENCES subject(id),
                    facts TEXT NOT NULL,
                    updated_at_ms BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE portal_link (
                    portal_account_id TEXT COLLATE "C" PRIMARY KEY,
                    subject_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES subject(id),
                    linked_at_ms BIGINT NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('AUTOMATIC', 'MANUAL'))
                )
                """,
                """
                CREATE TABLE link_request (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    submission_id TEXT COLLATE "C" NOT NULL,
                    portal_account_id TEXT COLLATE "C" NOT NULL,
                    subject_id TEXT COLLATE "C" NOT NULL REFERENCES subject(id),
                    county TEXT NOT NULL,
                    registrant_name TEXT NOT NULL,
                    registrant_search TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('PENDING', 'PROCESSED', 'REJECTED')),
                    origin TEXT NOT NULL CHECK (origin IN ('PORTAL', 'UNLINK')),
                    holds TEXT NOT NULL,
                    requested_at_ms BIGINT NOT NULL,
                    decided_at_ms BIGINT,
                    decision TEXT
                )
                """,
                "CREATE INDEX link_request_queue ON link_request(status, county, requested_at_ms, id)",
                "CREATE INDEX link_request_by_submission ON link_request(submission_id)",
                "CREATE INDEX link_request_by_subject ON link_request(subject_id, status)",
            ]
        ),
    ]

    /// The SHA-256 of a migration's statements, as recorded with it and pinned by a test.
    static func digest(of statements: [String]) -> String {
        SHA256.digest(Array(statements.joined(separator: ";\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Runs the migrations this database lacks, in one transaction under the migration lock, so
    /// that instances starting together migrate once; refuses a database whose recorded
    /// migrations differ from this build's (an edited migration, or a newer build's schema).
    func migrate() async throws {
        try await write { session in
            try await session.execute("SELECT pg_advisory_xact_lock(?)", [Self.migrationLockKey])
            try await session.execute("""
                CREATE TABLE IF NOT EXISTS verity_schema_migration (
                    name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """)
            let applied = try await Self.appliedMigrations(session)
            for migration in Self.migrations {
                let digest = Self.digest(of: migration.statements)
                if let recorded = applied[migration.name] {
                    guard recorded == digest else { throw SchemaMismatchError(migration: migration.name, problem: "ran with different statements") }
                    continue
                }
                for statement in migration.statements { try await session.execute(statement) }
                try await session.execute("INSERT INTO verity_schema_migration (name, sha256) VALUES (?, ?)", [migration.name, digest])
            }
        }
    }
}

extension PostgresCredentialStore {
    /// Refuses a database that holds no Verity store, or one migrated otherwise than this build would.
    func checkSchema() async throws {
        try await read { session in
            let table: String? = try await session.scalar("SELECT to_regclass('verity_schema_migration')::text")
            guard table != nil else { throw SchemaMismatchError(migration: "v1", problem: "was never run: the database holds no Verity store") }
            let applied = try await Self.appliedMigrations(session)
            for migration in Self.migrations where applied[migration.name] != Self.digest(of: migration.statements) {
                throw SchemaMismatchError(migration: migration.name, problem: applied[migration.name] == nil ? "was never run" : "ran with different statements")
            }
        }
    }
}

extension PostgresCredentialStore {
    /// The migrations the database has run, by name, with their digests.
    ///
    /// - Throws: ``SchemaMismatchError`` when one is unknown to this build: a newer Verity ran it,
    ///   and this one would not know what its tables hold.
    static func appliedMigrations(_ session: SQLSession) async throws -> [String: String] {
        var applied: [String: String] = [:]
        for row in try await session.rows("SELECT name, sha256 FROM verity_schema_migration") {
            applied[try row.value("name")] = try row.value("sha256")
        }
        let known = Set(migrations.map(\.name))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw SchemaMismatchError(migration: unknown, problem: "was run by a newer Verity than this one")
        }
        return applied
    }
}

/// The database's schema is not the one this build knows.
package struct SchemaMismatchError: Error, CustomStringConvertible {
    package let migration: String
    package let problem: String
    package var description: String { "the database's migration \"\(migration)\" \(problem); refusing to start" }
}
