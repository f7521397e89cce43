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

extension PostgresCredentialStore {
    package func insertChangeRequest(
        for subjectID: SubjectID,
        _ raise: @escaping @Sendable (_ subject: Subject, _ active: DetailsChangeRequest?) throws -> WorkflowWrite<DetailsChangeRequest>
    ) async throws -> DetailsChangeRequest {
        try await write { session in
            guard let subject = try await SubjectRecord.fetch(subjectID, session) else { throw CredentialError.notFound(subjectID) }
            let active = try await ChangeRequestRecord.fetch(
                where: "subject_id = ? AND status IN ('OPEN', 'IN_PROGRESS', 'WAITING')", [subjectID.rawValue], session
            ).first
            let write = try raise(subject, active)
            try await ChangeRequestRecord.insert(write.value, session)
            try await self.finish(write, session)
            return write.value
        }
    }

    package func changeRequest(_ id: String) async throws -> DetailsChangeRequest? {
        try await read { session in try await ChangeRequestRecord.fetch(where: "id = ?", [id], session).first }
    }

    package func modifyChangeRequest<Value: Sendable>(
        _ id: String,
        _ change: @escaping @Sendable (inout DetailsChangeRequest, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value {
        try await write { session in
            guard let previousRequest = try await ChangeRequestRecord.fetch(where: "id = ?", [id], session).first else {
                throw CredentialError.missing(field: "changeRequestId", message: "no change request \(id)")
            }
            guard let previousSubject = try await SubjectRecord.fetch(previousRequest.subjectID, session) else {
                throw StoreCorruptionError(table: "change_request", id: id)
            }
            var (request, subject) = (previousRequest, previousSubject)
            let write = try change(&request, &subject)
            if request != previousRequest { try await ChangeRequestRecord.update(request, session) }
            if subject != previousSubject { try await SubjectRecord.update(subject, previous: previousSubject, session) }
            if write.withdrawsPendingLetters {
                try await session.execute(
                    "UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL WHERE state = 'PENDING' AND change_request_id = ?",
                    [id]
                )
            }
            try await self.finish(write, session)
            return write.value
        }
    }

    package func changeRequests(matching query: ChangeRequestQuery) async throws -> [DetailsChangeRequest] {
        var conditions: [String] = []
        var arguments: [any SQLArgument] = []
        if !query.statuses.isEmpty {
            conditions.append("status IN (\(query.statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += query.statuses.map(\.rawValue).sorted()
        }
        if let subjectID = query.subjectID {
            conditions.append("subject_id = ?")
            arguments.append(subjectID.rawValue)
        }
        if let due = query.dueAtOrBefore {
            conditions.append("due_at_ms <= ?")
            arguments.append(Timestamp.milliseconds(of: due))
        }
        if let after = query.after {
            conditions.append("(created_at_ms, id) > (?, ?)")
            arguments += [Timestamp.milliseconds(of: after.time), after.id]
        }
        let filter = conditions.isEmpty ? "TRUE" : conditions.joined(separator: " AND ")
        arguments.append(query.limit)
        return try await read { [arguments] session in
            try await ChangeRequestRecord.fetch(where: "\(filter) ORDER BY created_at_ms, id LIMIT ?", arguments, session)
        }
    }

    package func dueChangeRequests(at now: Date, after: PageCursor?, limit: Int) async throws -> [PageCursor] {
        try await read { session in
            try await session.rows(
                """
                SELECT due_at_ms, id FROM change_request WHERE status = 'WAITING' AND due_at_ms <= ? AND (due_at_ms, id) > (?, ?)
                ORDER BY due_at_ms, id LIMIT ?
                """,
                [Timestamp.milliseconds(of: now), after.map { Timestamp.milliseconds(of: $0.time) } ?? Int64.min, after?.id ?? "", limit]
            ).map { PageCursor(time: try $0.date("due_at_ms"), id: try $0.value("id")) }
        }
    }

    /// Writes what accompanies a workflow's act: its letters, then its audit events.
    func finish(_ write: WorkflowWrite<some Sendable>, _ session: SQLSession) async throws {
        for delivery in write.deliveries { try await OutboxRecord.insert(delivery, session) }
        try await AuditRecords.append(write.audit, keys: auditKeys, session)
    }
}

/// Reads and writes ``DetailsChangeRequest`` values as rows of `change_request`.
enum ChangeRequestRecord {
    private static let columns = """
        id, subject_id, source, reason, reported_by, status, due_at_ms, created_at_ms, updated_at_ms, form_sent_at_ms,
        reminder_sent_at_ms, form_received_at_ms, closed_at_ms, resolution_reason, confirmation
        """

    /// The requests that match `condition`, each with the letters the letter system acknowledged as sent.
    static func fetch(where condition: String, _ arguments: [any SQLArgument], _ session: SQLSession) async throws -> [DetailsChangeRequest] {
        try await session.rows(
            """
            SELECT \(columns), (SELECT count(*) FROM outbox WHERE outbox.change_request_id = change_request.id AND outbox.state = 'SENT')
                AS letters_delivered
            FROM change_request WHERE \(condition)
            """,
            arguments
        ).map(decode)
    }

    static func insert(_ request: DetailsChangeRequest, _ session: SQLSession) async throws {
        try await session.execute(
            "INSERT INTO change_request (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [request.id, request.subjectID.rawValue, request.source.rawValue, request.reason.rawValue, request.reportedBy] + mutableColumns(request)
        )
    }

    static func update(_ request: DetailsChangeRequest, _ session: SQLSession) async throws {
        try await session.execute(
            """
            UPDATE change_request SET status = ?, due_at_ms = ?, created_at_ms = ?, updated_at_ms = ?, form_sent_at_ms = ?,
                reminder_sent_at_ms = ?, form_received_at_ms = ?, closed_at_ms = ?, resolution_reason = ?, confirmation = ?
            WHERE id = ?
            """,
            mutableColumns(request) + [request.id]
        )
    }

    private static func mutableColumns(_ request: DetailsChangeRequest) -> [any SQLArgument] {
        func milliseconds(_ date: Date?) -> Int64? { date.map(Timestamp.milliseconds(of:)) }
        return [
            request.status.rawValue, milliseconds(request.dueAt), Timestamp.milliseconds(of: request.createdAt),
            Timestamp.milliseconds(of: request.updatedAt), milliseconds(request.formSentAt), milliseconds(request.reminderSentAt),
            milliseconds(request.formReceivedAt), milliseconds(request.closedAt), request.resolutionReason, request.confirmation?.rawValue,
        ]
    }

    private static func decode(_ row: PostgresRandomAccessRow) throws -> DetailsChangeRequest {
        let id: String = try row.value("id")
        guard
            let source = DetailsChangeRequest.Source(rawValue: try row.value("source")),
            let reason = DetailsChangeRequest.Reason(rawValue: try row.value("reason")),
            let status = DetailsChangeRequest.Status(rawValue: try row.value("status"))
        else { throw StoreCorruptionError(table: "change_request", id: id) }
        let confirmation = try row.value("confirmation", as: String?.self).map { name in
            guard let value = DetailsChangeRequest.Confirmation(rawValue: name) else { throw StoreCorruptionError(table: "change_request", id: id) }
            return value
        }
        return DetailsChangeRequest(
            id: id, subjectID: try SubjectID(try row.value("subject_id")), source: source, reason: reason, reportedBy: try row.value("reported_by"),
            status: status, dueAt: try row.optionalDate("due_at_ms"), createdAt: try row.date("created_at_ms"), updatedAt: try row.date("updated_at_ms"),
            formSentAt: try row.optionalDate("form_sent_at_ms"), reminderSentAt: try row.optionalDate("reminder_sent_at_ms"),
            formReceivedAt: try row.optionalDate("form_received_at_ms"), closedAt: try row.optionalDate("closed_at_ms"),
            resolutionReason: try row.value("resolution_reason"), confirmation: confirmation, lettersDelivered: try row.value("letters_delivered")
        )
    }
}
