//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import GRDB

extension SQLiteCredentialStore {
    /// The schema's history, oldest first: a name and the SQL it runs.
    ///
    /// - Important: A migration that has shipped is never edited: databases in the field have
    ///   already run it. Every change is a new migration appended here. A test pins each shipped
    ///   migration's SQL by its SHA-256, so an edit cannot go unnoticed.
    static let migrations: [(name: String, sql: String)] = [
        (
            "v1: subjects and the audit trail",
            """
                CREATE TABLE subject (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('CLIENT', 'REPRESENTATIVE')),
                    represents_subject_id TEXT REFERENCES subject(id),
                    state TEXT NOT NULL CHECK (state IN ('NOT_SET_UP', 'DEFAULTS_APPLIED', 'ACTIVE', 'BLOCKED')),
                    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
                    blocked_at_ms INTEGER,
                    block_reason TEXT,
                    pin_hash TEXT,
                    password_hash TEXT,
                    spoken_password_hash TEXT,
                    ivr_pin_hash TEXT,
                    ivr_pin_updated_at_ms INTEGER,
                    contacts TEXT NOT NULL,
                    created_at_ms INTEGER NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                ) STRICT;

                CREATE INDEX subject_by_represented ON subject(represents_subject_id);

                CREATE TABLE audit_event (
                    seq INTEGER PRIMARY KEY,
                    time_ms INTEGER NOT NULL,
                    caller TEXT NOT NULL,
                    role TEXT NOT NULL,
                    actor TEXT,
                    subject_id TEXT,
                    method TEXT NOT NULL,
                    action TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    facts TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                ) STRICT;

                CREATE INDEX audit_event_by_subject ON audit_event(subject_id, seq);

                CREATE TRIGGER audit_event_is_append_only_update BEFORE UPDATE ON audit_event
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

                CREATE TRIGGER audit_event_is_append_only_delete BEFORE DELETE ON audit_event
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                """
        ),
        (
            "v2: one-time codes and the notification outbox",
            """
                CREATE TABLE code_challenge (
                    id TEXT PRIMARY KEY NOT NULL,
                    subject_id TEXT NOT NULL REFERENCES subject(id),
                    purpose TEXT NOT NULL,
                    channel TEXT NOT NULL CHECK (channel IN ('EMAIL', 'SMS')),
                    masked_destination TEXT NOT NULL,
                    code_mac TEXT NOT NULL,
                    pepper_key_id TEXT NOT NULL,
                    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
                    state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'USED', 'REPLACED', 'EXHAUSTED')),
                    created_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL
                ) STRICT;

                CREATE INDEX code_challenge_by_subject ON code_challenge(subject_id, created_at_ms);

                CREATE TABLE outbox (
                    id TEXT PRIMARY KEY NOT NULL,
                    channel TEXT NOT NULL CHECK (channel IN ('EMAIL', 'SMS')),
                    sealed_content BLOB,
                    pepper_key_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('PENDING', 'SENT', 'FAILED', 'EXPIRED')),
                    leased_until_ms INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL,
                    CHECK (state = 'PENDING' OR sealed_content IS NULL)
                ) STRICT;

                CREATE INDEX outbox_by_state ON outbox(state, created_at_ms);
                """
        ),
        (
            "v3: checks in flight, failure serials, outbox leases",
            """
                ALTER TABLE subject ADD COLUMN failure_serial INTEGER NOT NULL DEFAULT 0 CHECK (failure_serial >= 0);
                UPDATE subject SET failure_serial = consecutive_failures;

                CREATE TABLE check_reservation (
                    id TEXT PRIMARY KEY NOT NULL,
                    subject_id TEXT NOT NULL REFERENCES subject(id),
                    reserved_at_ms INTEGER NOT NULL,
                    seen_failure_serial INTEGER NOT NULL
                ) STRICT;

                CREATE INDEX check_reservation_by_subject ON check_reservation(subject_id, reserved_at_ms);

                ALTER TABLE outbox ADD COLUMN challenge_id TEXT;
                ALTER TABLE outbox ADD COLUMN lease_token TEXT;
                CREATE INDEX outbox_by_challenge ON outbox(challenge_id);
                """
        ),
        (
            "v4: the audit chain keyed",
            """
                ALTER TABLE audit_event ADD COLUMN key_id TEXT;
                """
        ),
        (
            "v5: codes counted per destination",
            """
                ALTER TABLE code_challenge ADD COLUMN destination_key TEXT;
                CREATE INDEX code_challenge_by_destination ON code_challenge(destination_key, created_at_ms);
                """
        ),
        (
            "v6: facts on file for the fallback identity check",
            """
                ALTER TABLE subject ADD COLUMN identity_document_hash TEXT;
                ALTER TABLE subject ADD COLUMN place_of_birth_hash TEXT;
                ALTER TABLE subject ADD COLUMN children_hash TEXT;
                """
        ),
        (
            "v7: recovery requests awaiting an identity document",
            """
                CREATE TABLE recovery_request (
                    id TEXT PRIMARY KEY NOT NULL,
                    subject_id TEXT NOT NULL REFERENCES subject(id),
                    status TEXT NOT NULL CHECK (status IN ('AWAITING_DOCUMENT', 'DOCUMENT_CONFIRMED', 'EXPIRED')),
                    opened_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL,
                    closed_at_ms INTEGER
                );
                CREATE INDEX recovery_request_by_subject ON recovery_request(subject_id, status);
                """
        ),
        (
            "v8: change requests, and letters in the outbox",
            """
                CREATE TABLE outbox_with_letters (
                    id TEXT PRIMARY KEY NOT NULL,
                    channel TEXT NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'LETTER')),
                    sealed_content BLOB,
                    pepper_key_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('PENDING', 'SENT', 'FAILED', 'EXPIRED')),
                    leased_until_ms INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL,
                    challenge_id TEXT,
                    lease_token TEXT,
                    change_request_id TEXT,
                    CHECK (state = 'PENDING' OR sealed_content IS NULL)
                ) STRICT;
                INSERT INTO outbox_with_letters (id, channel, sealed_content, pepper_key_id, state, leased_until_ms, attempts,
                    created_at_ms, expires_at_ms, challenge_id, lease_token)
                SELECT id, channel, sealed_content, pepper_key_id, state, leased_until_ms, attempts, created_at_ms, expires_at_ms,
                    challenge_id, lease_token FROM outbox;
                DROP TABLE outbox;
                ALTER TABLE outbox_with_letters RENAME TO outbox;
                CREATE INDEX outbox_by_state ON outbox(state, created_at_ms);
                CREATE INDEX outbox_by_challenge ON outbox(challenge_id);
                CREATE INDEX outbox_by_change_request ON outbox(change_request_id);

                CREATE TABLE change_request (
                    id TEXT PRIMARY KEY NOT NULL,
                    subject_id TEXT NOT NULL REFERENCES subject(id),
                    source TEXT NOT NULL CHECK (source IN ('PHONE', 'LETTER', 'SELF_SERVICE')),
                    reason TEXT NOT NULL CHECK (reason IN ('BLOCKED_AFTER_FAILED_CHECKS', 'CLIENT_REQUEST')),
                    reported_by TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('OPEN', 'IN_PROGRESS', 'WAITING', 'ACCEPTED', 'DECLINED', 'CLOSED')),
                    due_at_ms INTEGER,
                    created_at_ms INTEGER NOT NULL,
                    updated_at_ms INTEGER NOT NULL,
                    form_sent_at_ms INTEGER,
                    reminder_sent_at_ms INTEGER,
                    form_received_at_ms INTEGER,
                    closed_at_ms INTEGER,
                    resolution_reason TEXT,
                    confirmation TEXT CHECK (confirmation IN ('SMS', 'LETTER', 'EMAIL', 'NONE'))
                ) STRICT;
                CREATE UNIQUE INDEX change_request_one_active_per_subject ON change_request(subject_id)
                    WHERE status IN ('OPEN', 'IN_PROGRESS', 'WAITING');
                CREATE INDEX change_request_by_creation ON change_request(created_at_ms, id);
                CREATE INDEX change_request_by_subject ON change_request(subject_id, created_at_ms);
                CREATE INDEX change_request_by_due_time ON change_request(status, due_at_ms);
                """
        ),
        (
            "v9: portal registration, verified codes as grants, portal account links",
            """
                ALTER TABLE code_challenge ADD COLUMN verified_at_ms INTEGER;
                ALTER TABLE code_challenge ADD COLUMN redeemed_at_ms INTEGER;

                CREATE TABLE registration_token (
                    id TEXT PRIMARY KEY NOT NULL,
                    subject_id TEXT NOT NULL REFERENCES subject(id),
                    secret_mac TEXT NOT NULL,
                    pepper_key_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'USED', 'REPLACED')),
                    created_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL,
                    used_at_ms INTEGER,
                    destination_key TEXT NOT NULL
                ) STRICT;
                CREATE INDEX registration_token_by_subject ON registration_token(subject_id, state);

                CREATE TABLE link_facts (
                    subject_id TEXT PRIMARY KEY NOT NULL REFERENCES subject(id),
                    facts TEXT NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                ) STRICT;

                CREATE TABLE portal_link (
                    portal_account_id TEXT PRIMARY KEY NOT NULL,
                    subject_id TEXT NOT NULL UNIQUE REFERENCES subject(id),
                    linked_at_ms INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('AUTOMATIC', 'MANUAL'))
                ) STRICT;

                CREATE TABLE link_request (
                    id TEXT PRIMARY KEY NOT NULL,
                    submission_id TEXT NOT NULL,
                    portal_account_id TEXT NOT NULL,
                    subject_id TEXT NOT NULL REFERENCES subject(id),
                    county TEXT NOT NULL,
                    registrant_name TEXT NOT NULL,
                    registrant_search TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('PENDING', 'PROCESSED', 'REJECTED')),
                    origin TEXT NOT NULL CHECK (origin IN ('PORTAL', 'UNLINK')),
                    holds TEXT NOT NULL,
                    requested_at_ms INTEGER NOT NULL,
                    decided_at_ms INTEGER,
                    decision TEXT
                ) STRICT;
                CREATE INDEX link_request_queue ON link_request(status, county, requested_at_ms, id);
                CREATE INDEX link_request_by_submission ON link_request(submission_id);
                CREATE INDEX link_request_by_subject ON link_request(subject_id, status);
                """
        ),
    ]

    /// The migrator that brings a database up to date.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }
}
