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
    static func fetch(_ id: SubjectID, _ db: Database) throws -> Subject? {
        try Row.fetchOne(db, sql: "SELECT * FROM subject WHERE id = ?", arguments: [id.rawValue]).map(decode)
    }

    static func insert(_ subject: Subject, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO subject (id, kind, represents_subject_id, state, consecutive_failures, blocked_at_ms,
                    block_reason, pin_hash, password_hash, spoken_password_hash, ivr_pin_hash, ivr_pin_updated_at_ms,
                    contacts, created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: StatementArguments([subject.id.rawValue, subject.kind.rawValue]) + (try mutableColumns(subject))
                + [Timestamp.milliseconds(of: subject.createdAt), Timestamp.milliseconds(of: subject.updatedAt)]
        )
    }

    static func update(_ subject: Subject, _ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE subject SET represents_subject_id = ?, state = ?, consecutive_failures = ?, blocked_at_ms = ?,
                    block_reason = ?, pin_hash = ?, password_hash = ?, spoken_password_hash = ?, ivr_pin_hash = ?,
                    ivr_pin_updated_at_ms = ?, contacts = ?, updated_at_ms = ?
                WHERE id = ?
                """,
            arguments: (try mutableColumns(subject)) + [Timestamp.milliseconds(of: subject.updatedAt), subject.id.rawValue]
        )
    }

    private static func mutableColumns(_ subject: Subject) throws -> StatementArguments {
        let credentials = subject.credentials
        let contacts = String(decoding: try JSONEncoder.sorted.encode(subject.contacts), as: UTF8.self)
        return [
            subject.representsSubjectID?.rawValue, subject.state.rawValue, subject.consecutiveFailures,
            subject.blockedAt.map(Timestamp.milliseconds(of:)), subject.blockReason, credentials.pinHash,
            credentials.passwordHash, credentials.spokenPasswordHash, credentials.ivrPinHash,
            credentials.ivrPinUpdatedAt.map(Timestamp.milliseconds(of:)), contacts,
        ]
    }

    static func decode(_ row: Row) throws -> Subject {
        func date(_ column: String) -> Date? { (row[column] as Int64?).map(Timestamp.date(milliseconds:)) }
        guard
            let kind = SubjectKind(rawValue: row["kind"]),
            let state = SubjectState(rawValue: row["state"]),
            let created = date("created_at_ms"), let updated = date("updated_at_ms")
        else { throw StoreCorruptionError(table: "subject", id: row["id"]) }
        let contacts = try JSONDecoder().decode(Contacts.self, from: Data((row["contacts"] as String).utf8))
        return Subject(
            id: try SubjectID(row["id"]),
            kind: kind,
            representsSubjectID: try (row["represents_subject_id"] as String?).map { try SubjectID($0) },
            state: state,
            consecutiveFailures: row["consecutive_failures"],
            blockedAt: date("blocked_at_ms"),
            blockReason: row["block_reason"],
            credentials: StoredCredentials(
                pinHash: row["pin_hash"],
                passwordHash: row["password_hash"],
                spokenPasswordHash: row["spoken_password_hash"],
                ivrPinHash: row["ivr_pin_hash"],
                ivrPinUpdatedAt: date("ivr_pin_updated_at_ms")
            ),
            contacts: contacts,
            createdAt: created,
            updatedAt: updated
        )
    }
}

/// A row that holds a value the code cannot have written.
public struct StoreCorruptionError: Error, CustomStringConvertible {
    public let table: String
    public let id: String
    public var description: String { "the \(table) row \(id) holds a value Verity cannot read; restore it from a backup" }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
