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

/// Reads and writes ``Subject`` values as rows of the `subject` table, with their checks in flight.
enum SubjectRecord {
    static func fetch(_ id: SubjectID, _ session: SQLSession) async throws -> Subject? {
        guard let row = try await session.row("SELECT * FROM subject WHERE id = ?", [id.rawValue]) else { return nil }
        var subject = try decode(row)
        subject.pendingChecks = try await session.rows(
            "SELECT id, reserved_at_ms, seen_failure_serial FROM check_reservation WHERE subject_id = ? ORDER BY reserved_at_ms, id", [id.rawValue]
        ).map { row in
            PendingCheck(id: try row.value("id"), reservedAt: try row.date("reserved_at_ms"), seenFailureSerial: try row.value("seen_failure_serial"))
        }
        return subject
    }

    /// What a status shows, without the contacts or the checks in flight.
    static func fetchStatus(_ id: SubjectID, _ session: SQLSession) async throws -> SubjectStatus? {
        guard let row = try await session.row(
            """
            SELECT kind, represents_subject_id, state, consecutive_failures, blocked_at_ms, block_reason, pin_hash IS NOT NULL AS has_pin,
                password_hash IS NOT NULL AS has_password, ivr_pin_updated_at_ms, updated_at_ms
            FROM subject WHERE id = ?
            """,
            [id.rawValue]
        ) else { return nil }
        guard let kind = SubjectKind(rawValue: try row.value("kind")), let state = SubjectState(rawValue: try row.value("state")) else {
            throw StoreCorruptionError(table: "subject", id: id.rawValue)
        }
        return SubjectStatus(
            subjectID: id, kind: kind, representsSubjectID: try row.value("represents_subject_id", as: String?.self).map { try SubjectID($0) },
            state: state, consecutiveFailures: try row.value("consecutive_failures"), blockedAt: try row.optionalDate("blocked_at_ms"),
            blockReason: try row.value("block_reason"), hasPIN: try row.value("has_pin"), hasPassword: try row.value("has_password"),
            ivrPINUpdatedAt: try row.optionalDate("ivr_pin_updated_at_ms"), updatedAt: try row.date("updated_at_ms")
        )
    }

    static func insert(_ subject: Subject, _ session: SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO subject (id, kind, represents_subject_id, state, consecutive_failures, blocked_at_ms,
                block_reason, pin_hash, password_hash, spoken_password_hash, ivr_pin_hash, ivr_pin_updated_at_ms,
                contacts, failure_serial, identity_document_hash, place_of_birth_hash, children_hash, created_at_ms, updated_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [subject.id.rawValue, subject.kind.rawValue] + (try mutableColumns(subject))
                + [Timestamp.milliseconds(of: subject.createdAt), Timestamp.milliseconds(of: subject.updatedAt)]
        )
        try await syncPendingChecks(subject, previous: [], session)
    }

    /// Writes `subject` back over the row read as `previous`, with its reservations.
    static func update(_ subject: Subject, previous: Subject, _ session: SQLSession) async throws {
        try await session.execute(
            """
            UPDATE subject SET represents_subject_id = ?, state = ?, consecutive_failures = ?, blocked_at_ms = ?,
                block_reason = ?, pin_hash = ?, password_hash = ?, spoken_password_hash = ?, ivr_pin_hash = ?,
                ivr_pin_updated_at_ms = ?, contacts = ?, failure_serial = ?, identity_document_hash = ?,
                place_of_birth_hash = ?, children_hash = ?, updated_at_ms = ?
            WHERE id = ?
            """,
            (try mutableColumns(subject)) + [Timestamp.milliseconds(of: subject.updatedAt), subject.id.rawValue]
        )
        try await syncPendingChecks(subject, previous: previous.pendingChecks, session)
    }

    /// Writes the reservations that `subject` gained and drops the ones it lost since `previous`.
    private static func syncPendingChecks(_ subject: Subject, previous: [PendingCheck], _ session: SQLSession) async throws {
        let kept = Set(subject.pendingChecks.map(\.id))
        for gone in previous where !kept.contains(gone.id) {
            try await session.execute("DELETE FROM check_reservation WHERE id = ?", [gone.id])
        }
        let known = Set(previous.map(\.id))
        for check in subject.pendingChecks where !known.contains(check.id) {
            try await session.execute(
                "INSERT INTO check_reservation (id, subject_id, reserved_at_ms, seen_failure_serial) VALUES (?, ?, ?, ?)",
                [check.id, subject.id.rawValue, Timestamp.milliseconds(of: check.reservedAt), check.seenFailureSerial]
            )
        }
    }

    private static func mutableColumns(_ subject: Subject) throws -> [any SQLArgument] {
        let credentials = subject.credentials
        let contacts = String(decoding: try JSONEncoder.sorted.encode(subject.contacts), as: UTF8.self)
        return [
            subject.representsSubjectID?.rawValue, subject.state.rawValue, subject.consecutiveFailures,
            subject.blockedAt.map(Timestamp.milliseconds(of:)), subject.blockReason, credentials.pinHash,
            credentials.passwordHash, credentials.spokenPasswordHash, credentials.ivrPinHash,
            credentials.ivrPinUpdatedAt.map(Timestamp.milliseconds(of:)), contacts, subject.failureSerial,
            credentials.identityDocumentHash, credentials.placeOfBirthHash, credentials.childrenHash,
        ]
    }

    private static func decode(_ row: PostgresRandomAccessRow) throws -> Subject {
        let id: String = try row.value("id")
        guard let kind = SubjectKind(rawValue: try row.value("kind")), let state = SubjectState(rawValue: try row.value("state")) else {
            throw StoreCorruptionError(table: "subject", id: id)
        }
        let contacts = try JSONDecoder.shared.decode(Contacts.self, from: Data((try row.value("contacts", as: String.self)).utf8))
        return Subject(
            id: try SubjectID(id),
            kind: kind,
            representsSubjectID: try row.value("represents_subject_id", as: String?.self).map { try SubjectID($0) },
            state: state,
            consecutiveFailures: try row.value("consecutive_failures"),
            failureSerial: try row.value("failure_serial"),
            blockedAt: try row.optionalDate("blocked_at_ms"),
            blockReason: try row.value("block_reason"),
            credentials: StoredCredentials(
                pinHash: try row.value("pin_hash"),
                passwordHash: try row.value("password_hash"),
                spokenPasswordHash: try row.value("spoken_password_hash"),
                ivrPinHash: try row.value("ivr_pin_hash"),
                ivrPinUpdatedAt: try row.optionalDate("ivr_pin_updated_at_ms"),
                identityDocumentHash: try row.value("identity_document_hash"),
                placeOfBirthHash: try row.value("place_of_birth_hash"),
                childrenHash: try row.value("children_hash")
            ),
            contacts: contacts,
            createdAt: try row.date("created_at_ms"),
            updatedAt: try row.date("updated_at_ms")
        )
    }
}
