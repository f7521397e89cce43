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
        spoken_password_hash, ivr_pin_hash, ivr_pin_updated_at_ms, contacts, created_at_ms, updated_at_ms
        """

    static func fetch(_ id: SubjectID, _ db: Database) throws -> Subject? {
        // A cached statement is parsed once per connection, not once per read.
        let statement = try db.cachedStatement(sql: "SELECT \(columns) FROM subject WHERE id = ?")
        return try Row.fetchOne(statement, arguments: [id.rawValue]).map(decode)
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
        func date(_ index: Int) -> Date? { (row[index] as Int64?).map(Timestamp.date(milliseconds:)) }
        let id: String = row[0]
        guard
            let kind = SubjectKind(rawValue: row[1]),
            let state = SubjectState(rawValue: row[3]),
            let created = date(13), let updated = date(14)
        else { throw StoreCorruptionError(table: "subject", id: id) }
        let contacts = try JSONDecoder().decode(Contacts.self, from: Data((row[12] as String).utf8))
        return Subject(
            id: try SubjectID(id),
            kind: kind,
            representsSubjectID: try (row[2] as String?).map { try SubjectID($0) },
            state: state,
            consecutiveFailures: row[4],
            blockedAt: date(5),
            blockReason: row[6],
            credentials: StoredCredentials(
                pinHash: row[7],
                passwordHash: row[8],
                spokenPasswordHash: row[9],
                ivrPinHash: row[10],
                ivrPinUpdatedAt: date(11)
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
