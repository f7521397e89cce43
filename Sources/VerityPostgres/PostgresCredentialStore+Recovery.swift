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
    package func insertRecoveryRequest(_ request: RecoveryRequest, audit: AuditDraft, now: Date) async throws -> RecoveryRequest {
        try await write { session in
            guard try await session.row("SELECT 1 FROM subject WHERE id = ?", [request.subjectID.rawValue]) != nil else {
                throw CredentialError.notFound(request.subjectID)
            }
            let open = try await session.rows(
                "SELECT * FROM recovery_request WHERE subject_id = ? AND status = 'AWAITING_DOCUMENT'", [request.subjectID.rawValue]
            ).map(Self.recoveryRequest)
            if let waiting = open.first(where: { $0.status(at: now) == .awaitingDocument }) { return waiting }
            try await session.execute(
                "INSERT INTO recovery_request (id, subject_id, status, opened_at_ms, expires_at_ms, closed_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                [request.id, request.subjectID.rawValue] + Self.mutableColumns(request)
            )
            try await AuditRecords.append([audit], keys: self.auditKeys, session)
            return request
        }
    }

    package func recoveryRequest(_ id: String) async throws -> RecoveryRequest? {
        try await read { session in try await session.row("SELECT * FROM recovery_request WHERE id = ?", [id]).map(Self.recoveryRequest) }
    }

    package func modifyRecoveryRequest<Value: Sendable>(
        _ id: String,
        _ change: @escaping @Sendable (inout RecoveryRequest) throws -> SubjectModification<Value>
    ) async throws -> Value {
        try await write { session in
            guard let previous = try await session.row("SELECT * FROM recovery_request WHERE id = ?", [id]).map(Self.recoveryRequest) else {
                throw CredentialError.missing(field: "recoveryRequestId", message: "no recovery request \(id)")
            }
            var request = previous
            let modification = try change(&request)
            if request != previous {
                try await session.execute(
                    "UPDATE recovery_request SET status = ?, opened_at_ms = ?, expires_at_ms = ?, closed_at_ms = ? WHERE id = ?",
                    Self.mutableColumns(request) + [id]
                )
            }
            try await AuditRecords.append(modification.audit, keys: self.auditKeys, session)
            return modification.value
        }
    }

    private static func mutableColumns(_ request: RecoveryRequest) -> [any SQLArgument] {
        [
            request.storedStatus.rawValue, Timestamp.milliseconds(of: request.openedAt), Timestamp.milliseconds(of: request.expiresAt),
            request.closedAt.map(Timestamp.milliseconds(of:)),
        ]
    }

    private static func recoveryRequest(_ row: PostgresRandomAccessRow) throws -> RecoveryRequest {
        let id: String = try row.value("id")
        guard let status = RecoveryRequest.Status(rawValue: try row.value("status")) else { throw StoreCorruptionError(table: "recovery_request", id: id) }
        return RecoveryRequest(
            id: id, subjectID: try SubjectID(try row.value("subject_id")), storedStatus: status, openedAt: try row.date("opened_at_ms"),
            expiresAt: try row.date("expires_at_ms"), closedAt: try row.optionalDate("closed_at_ms")
        )
    }
}
