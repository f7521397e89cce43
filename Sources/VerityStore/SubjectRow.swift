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

/// Reads and writes ``Subject`` values as rows of the `subject` table.
enum SubjectRow {
    /// The columns every read names, in the order ``decode(_:)`` reads them by position: reading
    /// by position skips GRDB's case-insensitive lookup of names, which is most of a row's cost.
    static let columns = """
        id, kind, represents_subject_id, state, consecutive_failures, blocked_at_ms, block_reason, pin_hash, password_hash, \
        spoken_password_hash, ivr_pin_hash, ivr_pin_updated_at_ms, contacts, created_at_ms, updated_at_ms, failure_serial, \
        identity_document_hash, place_of_birth_hash, children_hash
        """

    static func fetch(_ id: SubjectID, _ db: Database) throws -> Subject? {
        // A cached statement is parsed once per connection, not once per read.
        let statement = try db.cachedStatement(sql: "SELECT \(columns) FROM subject WHERE id = ?")
        guard var subject = try Row.fetchOne(statement, arguments: [id.rawValue]).map(decode) else { return nil }
        subject.pendingChecks = try pendingChecks(of: id, db)
        return subject
    }

    /// What a status shows, read without the contacts (a JSON decode) or the checks in flight:
    /// most of the cost of reading a whole subject.
    static func fetchStatus(_ id: SubjectID, _ db: Database) throws -> SubjectStatus? {
        let statement = try db.cachedStatement(sql: """
            SELECT kind, represents_subject_id, state, consecutive_failures, blocked_at_ms, block_reason, pin_hash IS NOT NULL,
                password_hash IS NOT NULL, ivr_pin_updated_at_ms, updated_at_ms
            FROM subject WHERE id = ?
            """)
        guard let row = try Row.fetchOne(statement, arguments: [id.rawValue]) else { return nil }
        func date(_ index: Int) -> Date? { (row[index] as Int64?).map(Timestamp.date(milliseconds:)) }
        guard let kind = SubjectKind(rawValue: row[0]), let state = SubjectState(rawValue: row[2]), let updated = date(9) else {
            throw StoreCorruptionError(table: "subject", id: id.rawValue)
        }
        return SubjectStatus(
            subjectID: id, kind: kind, representsSubjectID: try (row[1] as String?).map { try SubjectID($0) }, state: state,
            consecutiveFailures: row[3], blockedAt: date(4), blockReason: row[5], hasPIN: row[6], hasPassword: row[7],
            ivrPINUpdatedAt: date(8), updatedAt: updated
        )
    }

    private static func pendingChecks(of id: SubjectID, _ db: Database) throws -> [PendingCheck] {
        let statement = try db.cachedStatement(
            sql: "SELECT id, reserved_at_ms, seen_failure_serial FROM check_reservation WHERE subject_id = ? ORDER BY reserved_at_ms, id"
        )
        return try Row.fetchAll(statement, arguments: [id.rawValue]).map { row in
            PendingCheck(id: row[0], reservedAt: Timestamp.date(milliseconds: row[1]), seenFailureSerial: row[2])
        }
    }

    /// Writes the reservations that `subject` gained and drops the ones it lost since `previous`.
    private static func syncPendingChecks(_ subject: Subject, previous: [PendingCheck], _ db: Database) throws {
        let kept = Set(subject.pendingChecks.map(\.id))
        for gone in previous where !kept.contains(gone.id) {
            try db.execute(sql: "DELETE FROM check_reservation WHERE id = ?", arguments: [gone.id])
        }
        let known = Set(previous.map(\.id))
        for check in subject.pendingChecks where !known.contains(check.id) {
            try db.execute(
                sql: "INSERT INTO check_reservation (id, subject_id, reserved_at_ms, seen_failure_serial) VALUES (?, ?, ?, ?)",
                arguments: [check.id, subject.id.rawValue, Timestamp.milliseconds(of: check.reservedAt), check.seenFailureSerial]
            )
        }
    }

    static func insert(_ subject: Subject, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO subject (id, kind, represents_subject_id, state, consecutive_failures, blocked_at_ms,
                    block_reason, pin_hash, password_hash, spoken_password_hash, ivr_pin_hash, ivr_pin_updated_at_ms,
                    contacts, failure_serial, identity_document_hash, place_of_birth_hash, children_hash, created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: StatementArguments([subject.id.rawValue, subject.kind.rawValue]) + (try mutableColumns(subject))
                + [Timestamp.milliseconds(of: subject.createdAt), Timestamp.milliseconds(of: subject.updatedAt)]
        )
        try syncPendingChecks(subject, previous: [], db)
    }

    /// Writes `subject` back over the row read as `previous`, with its reservations.
    static func update(_ subject: Subject, previous: Subject, _ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE subject SET represents_subject_id = ?, state = ?, consecutive_failures = ?, blocked_at_ms = ?,
                    block_reason = ?, pin_hash = ?, password_hash = ?, spoken_password_hash = ?, ivr_pin_hash = ?,
                    ivr_pin_updated_at_ms = ?, contacts = ?, failure_serial = ?, identity_document_hash = ?,
                    place_of_birth_hash = ?, children_hash = ?, updated_at_ms = ?
                WHERE id = ?
                """,
            arguments: (try mutableColumns(subject)) + [Timestamp.milliseconds(of: subject.updatedAt), subject.id.rawValue]
        )
        try syncPendingChecks(subject, previous: previous.pendingChecks, db)
    }

    private static func mutableColumns(_ subject: Subject) throws -> StatementArguments {
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

    static func decode(_ row: Row) throws -> Subject {
        func date(_ index: Int) -> Date? { (row[index] as Int64?).map(Timestamp.date(milliseconds:)) }
        let id: String = row[0]
        guard
            let kind = SubjectKind(rawValue: row[1]),
            let state = SubjectState(rawValue: row[3]),
            let created = date(13), let updated = date(14)
        else { throw StoreCorruptionError(table: "subject", id: id) }
        let contacts = try JSONDecoder.shared.decode(Contacts.self, from: Data((row[12] as String).utf8))
        return Subject(
            id: try SubjectID(id),
            kind: kind,
            representsSubjectID: try (row[2] as String?).map { try SubjectID($0) },
            state: state,
            consecutiveFailures: row[4],
            failureSerial: row[15],
            blockedAt: date(5),
            blockReason: row[6],
            credentials: StoredCredentials(
                pinHash: row[7],
                passwordHash: row[8],
                spokenPasswordHash: row[9],
                ivrPinHash: row[10],
                ivrPinUpdatedAt: date(11),
                identityDocumentHash: row[16],
                placeOfBirthHash: row[17],
                childrenHash: row[18]
            ),
            contacts: contacts,
            createdAt: created,
            updatedAt: updated
        )
    }
}
