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

extension SQLiteCredentialStore {
    package func insertChangeRequest(
        for subjectID: SubjectID,
        _ raise: @escaping @Sendable (_ subject: Subject, _ active: DetailsChangeRequest?) throws -> WorkflowWrite<DetailsChangeRequest>
    ) async throws -> DetailsChangeRequest {
        try await write { db in
            guard let subject = try SubjectRow.fetch(subjectID, db) else { throw CredentialError.notFound(subjectID) }
            let active = try ChangeRequestRow.fetchOne(
                db, where: "subject_id = ? AND status IN ('OPEN', 'IN_PROGRESS', 'WAITING')", [subjectID.rawValue]
            )
            let write = try raise(subject, active)
            try ChangeRequestRow.insert(write.value, db)
            try self.finish(write, db)
            return write.value
        }
    }

    package func changeRequest(_ id: String) async throws -> DetailsChangeRequest? {
        try await read { db in try ChangeRequestRow.fetchOne(db, where: "id = ?", [id]) }
    }

    package func modifyChangeRequest<Value: Sendable>(
        _ id: String,
        _ change: @escaping @Sendable (inout DetailsChangeRequest, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value {
        try await write { db in
            guard let previousRequest = try ChangeRequestRow.fetchOne(db, where: "id = ?", [id]) else {
                throw CredentialError.missing(field: "changeRequestId", message: "no change request \(id)")
            }
            guard let previousSubject = try SubjectRow.fetch(previousRequest.subjectID, db) else {
                throw StoreCorruptionError(table: "change_request", id: id)
            }
            var (request, subject) = (previousRequest, previousSubject)
            let write = try change(&request, &subject)
            if request != previousRequest { try ChangeRequestRow.update(request, db) }
            if subject != previousSubject { try SubjectRow.update(subject, previous: previousSubject, db) }
            if write.withdrawsPendingLetters {
                try db.execute(
                    sql: "UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL WHERE state = 'PENDING' AND change_request_id = ?",
                    arguments: [id]
                )
            }
            try self.finish(write, db)
            return write.value
        }
    }

    package func changeRequests(matching query: ChangeRequestQuery) async throws -> [DetailsChangeRequest] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if !query.statuses.isEmpty {
            conditions.append("status IN (\(query.statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(query.statuses.map(\.rawValue).sorted())
        }
        if let subjectID = query.subjectID {
            conditions.append("subject_id = ?")
            arguments += [subjectID.rawValue]
        }
        if let due = query.dueAtOrBefore {
            conditions.append("due_at_ms <= ?")
            arguments += [Timestamp.milliseconds(of: due)]
        }
        if let after = query.after {
            conditions.append("(created_at_ms, id) > (?, ?)")
            arguments += [Timestamp.milliseconds(of: after.time), after.id]
        }
        let filter = conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")
        arguments += [query.limit]
        return try await read { [arguments] db in
            try ChangeRequestRow.fetchAll(db, where: "\(filter) ORDER BY created_at_ms, id LIMIT ?", arguments)
        }
    }

    package func dueChangeRequests(at now: Date, after: PageCursor?, limit: Int) async throws -> [PageCursor] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT due_at_ms, id FROM change_request WHERE status = 'WAITING' AND due_at_ms <= ? AND (due_at_ms, id) > (?, ?)
                    ORDER BY due_at_ms, id LIMIT ?
                    """,
                arguments: [Timestamp.milliseconds(of: now), after.map { Timestamp.milliseconds(of: $0.time) } ?? Int64.min, after?.id ?? "", limit]
            ).map { PageCursor(time: Timestamp.date(milliseconds: $0[0]), id: $0[1]) }
        }
    }

    /// Writes what accompanies a workflow's act: its letters, then its audit events.
    private func finish(_ write: WorkflowWrite<some Sendable>, _ db: Database) throws {
        for delivery in write.deliveries { try OutboxRow.insert(delivery, db) }
        try AuditTrail.append(write.audit, keys: auditKeys, db)
    }
}

/// Reads and writes ``DetailsChangeRequest`` values as rows of `change_request`.
enum ChangeRequestRow {
    private static let columns = """
        id, subject_id, source, reason, reported_by, status, due_at_ms, created_at_ms, updated_at_ms, form_sent_at_ms,
        reminder_sent_at_ms, form_received_at_ms, closed_at_ms, resolution_reason, confirmation
        """

    /// The columns, and the letters the letter system acknowledged as sent.
    private static let selection = """
        \(columns), (SELECT count(*) FROM outbox WHERE outbox.change_request_id = change_request.id AND outbox.state = 'SENT')
        """

    static func fetchOne(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> DetailsChangeRequest? {
        try Row.fetchOne(db, sql: "SELECT \(selection) FROM change_request WHERE \(condition)", arguments: arguments).map(decode)
    }

    static func fetchAll(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [DetailsChangeRequest] {
        try Row.fetchAll(db, sql: "SELECT \(selection) FROM change_request WHERE \(condition)", arguments: arguments).map(decode)
    }

    static func insert(_ request: DetailsChangeRequest, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO change_request (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                request.id, request.subjectID.rawValue, request.source.rawValue, request.reason.rawValue, request.reportedBy,
            ] + mutableColumns(request)
        )
    }

    static func update(_ request: DetailsChangeRequest, _ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE change_request SET status = ?, due_at_ms = ?, created_at_ms = ?, updated_at_ms = ?, form_sent_at_ms = ?,
                    reminder_sent_at_ms = ?, form_received_at_ms = ?, closed_at_ms = ?, resolution_reason = ?, confirmation = ?
                WHERE id = ?
                """,
            arguments: mutableColumns(request) + [request.id]
        )
    }

    private static func mutableColumns(_ request: DetailsChangeRequest) -> StatementArguments {
        func milliseconds(_ date: Date?) -> Int64? { date.map(Timestamp.milliseconds(of:)) }
        return [
            request.status.rawValue, milliseconds(request.dueAt), Timestamp.milliseconds(of: request.createdAt),
            Timestamp.milliseconds(of: request.updatedAt), milliseconds(request.formSentAt), milliseconds(request.reminderSentAt),
            milliseconds(request.formReceivedAt), milliseconds(request.closedAt), request.resolutionReason, request.confirmation?.rawValue,
        ]
    }

    private static func decode(_ row: Row) throws -> DetailsChangeRequest {
        func date(_ index: Int) -> Date? { (row[index] as Int64?).map(Timestamp.date(milliseconds:)) }
        let id: String = row[0]
        guard
            let source = DetailsChangeRequest.Source(rawValue: row[2]),
            let reason = DetailsChangeRequest.Reason(rawValue: row[3]),
            let status = DetailsChangeRequest.Status(rawValue: row[5])
        else { throw StoreCorruptionError(table: "change_request", id: id) }
        let confirmation = try (row[14] as String?).map { name in
            guard let value = DetailsChangeRequest.Confirmation(rawValue: name) else { throw StoreCorruptionError(table: "change_request", id: id) }
            return value
        }
        return DetailsChangeRequest(
            id: id, subjectID: try SubjectID(row[1]), source: source, reason: reason, reportedBy: row[4], status: status,
            dueAt: date(6), createdAt: Timestamp.date(milliseconds: row[7]), updatedAt: Timestamp.date(milliseconds: row[8]),
            formSentAt: date(9), reminderSentAt: date(10), formReceivedAt: date(11), closedAt: date(12),
            resolutionReason: row[13], confirmation: confirmation, lettersDelivered: row[15]
        )
    }
}
