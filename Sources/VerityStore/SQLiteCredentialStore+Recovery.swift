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
    package func insertRecoveryRequest(_ request: RecoveryRequest, audit: AuditDraft, now: Date) async throws -> RecoveryRequest {
        try await write { db in
            guard try SubjectRow.fetch(request.subjectID, db) != nil else { throw CredentialError.notFound(request.subjectID) }
            let open = try Row.fetchAll(
                db, sql: "SELECT \(Self.recoveryColumns) FROM recovery_request WHERE subject_id = ? AND status = 'AWAITING_DOCUMENT'",
                arguments: [request.subjectID.rawValue]
            ).map(Self.recoveryRequest)
            if let waiting = open.first(where: { $0.status(at: now) == .awaitingDocument }) { return waiting }
            try db.execute(
                sql: "INSERT INTO recovery_request (id, subject_id, status, opened_at_ms, expires_at_ms, closed_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [request.id, request.subjectID.rawValue] + Self.mutableColumns(request)
            )
            try AuditTrail.append([audit], keys: self.auditKeys, db)
            return request
        }
    }

    package func recoveryRequest(_ id: String) async throws -> RecoveryRequest? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.recoveryColumns) FROM recovery_request WHERE id = ?", arguments: [id]).map(Self.recoveryRequest)
        }
    }

    package func modifyRecoveryRequest<Value: Sendable>(
        _ id: String,
        _ change: @escaping @Sendable (inout RecoveryRequest) throws -> SubjectModification<Value>
    ) async throws -> Value {
        try await write { db in
            guard let previous = try Row.fetchOne(
                db, sql: "SELECT \(Self.recoveryColumns) FROM recovery_request WHERE id = ?", arguments: [id]
            ).map(Self.recoveryRequest) else {
                throw CredentialError.missing(field: "recoveryRequestId", message: "no recovery request \(id)")
            }
            var request = previous
            let modification = try change(&request)
            if request != previous {
                try db.execute(
                    sql: "UPDATE recovery_request SET status = ?, opened_at_ms = ?, expires_at_ms = ?, closed_at_ms = ? WHERE id = ?",
                    arguments: Self.mutableColumns(request) + [id]
                )
            }
            try AuditTrail.append(modification.audit, keys: self.auditKeys, db)
            return modification.value
        }
    }

    private static let recoveryColumns = "id, subject_id, status, opened_at_ms, expires_at_ms, closed_at_ms"

    private static func mutableColumns(_ request: RecoveryRequest) -> StatementArguments {
        [
            request.storedStatus.rawValue, Timestamp.milliseconds(of: request.openedAt), Timestamp.milliseconds(of: request.expiresAt),
            request.closedAt.map(Timestamp.milliseconds(of:)),
        ]
    }

    private static func recoveryRequest(_ row: Row) throws -> RecoveryRequest {
        let id: String = row[0]
        guard let status = RecoveryRequest.Status(rawValue: row[2]) else { throw StoreCorruptionError(table: "recovery_request", id: id) }
        return RecoveryRequest(
            id: id, subjectID: try SubjectID(row[1]), storedStatus: status, openedAt: Timestamp.date(milliseconds: row[3]),
            expiresAt: Timestamp.date(milliseconds: row[4]), closedAt: (row[5] as Int64?).map(Timestamp.date(milliseconds:))
        )
    }
}
