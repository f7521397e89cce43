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
    package func insertRegistrationToken(_ token: RegistrationToken, delivery: Delivery, audit: AuditDraft) async throws {
        try await write { session in
            guard try await session.row("SELECT 1 FROM subject WHERE id = ?", [token.subjectID.rawValue]) != nil else {
                throw CredentialError.notFound(token.subjectID)
            }
            // The e-mail of a replaced token must not go out any more.
            try await session.execute(
                """
                UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL
                WHERE state = 'PENDING' AND challenge_id IN (SELECT id FROM registration_token WHERE subject_id = ? AND state = 'ACTIVE')
                """,
                [token.subjectID.rawValue]
            )
            try await session.execute(
                "UPDATE registration_token SET state = 'REPLACED' WHERE subject_id = ? AND state = 'ACTIVE'", [token.subjectID.rawValue]
            )
            try await RegistrationTokenRecord.insert(token, session)
            try await OutboxRecord.insert(delivery, session)
            try await AuditRecords.append([audit], keys: self.auditKeys, session)
        }
    }

    package func registrationToken(_ id: String) async throws -> RegistrationToken? {
        try await read { session in try await RegistrationTokenRecord.fetch(id, session) }
    }

    package func redeemRegistrationToken<Value: Sendable>(
        _ id: String, _ redeem: @escaping @Sendable (inout RegistrationToken, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value? {
        try await write { session in
            guard let previousToken = try await RegistrationTokenRecord.fetch(id, session) else { return nil }
            guard let previousSubject = try await SubjectRecord.fetch(previousToken.subjectID, session) else {
                throw StoreCorruptionError(table: "registration_token", id: id)
            }
            var (token, subject) = (previousToken, previousSubject)
            let write = try redeem(&token, &subject)
            if token != previousToken {
                try await session.execute(
                    "UPDATE registration_token SET state = ?, used_at_ms = ? WHERE id = ?",
                    [token.state.rawValue, token.usedAt.map(Timestamp.milliseconds(of:)), token.id]
                )
            }
            if subject != previousSubject { try await SubjectRecord.update(subject, previous: previousSubject, session) }
            try await AuditRecords.append(write.audit, keys: self.auditKeys, session)
            return write.value
        }
    }

    package func redeemCode<Value: Sendable>(
        _ id: String, subjectID: SubjectID, purpose: CodePurpose,
        _ redeem: @escaping @Sendable (inout CodeChallenge, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value? {
        try await write { session in
            guard let previousChallenge = try await CodeRecord.fetch(id, subjectID: subjectID, purpose: purpose, session),
                  let previousSubject = try await SubjectRecord.fetch(subjectID, session) else { return nil }
            var (challenge, subject) = (previousChallenge, previousSubject)
            let write = try redeem(&challenge, &subject)
            if challenge != previousChallenge { try await CodeRecord.updateRedemption(challenge, session) }
            if subject != previousSubject { try await SubjectRecord.update(subject, previous: previousSubject, session) }
            try await AuditRecords.append(write.audit, keys: self.auditKeys, session)
            return write.value
        }
    }
}

/// Reads and writes ``RegistrationToken`` values as rows of `registration_token`.
enum RegistrationTokenRecord {
    static func fetch(_ id: String, _ session: SQLSession) async throws -> RegistrationToken? {
        guard let row = try await session.row("SELECT * FROM registration_token WHERE id = ?", [id]) else { return nil }
        guard let state = RegistrationToken.State(rawValue: try row.value("state")) else { throw StoreCorruptionError(table: "registration_token", id: id) }
        return RegistrationToken(
            id: try row.value("id"), subjectID: try SubjectID(try row.value("subject_id")), secretMAC: try row.value("secret_mac"),
            pepperKeyID: try row.value("pepper_key_id"), state: state, createdAt: try row.date("created_at_ms"),
            expiresAt: try row.date("expires_at_ms"), usedAt: try row.optionalDate("used_at_ms"), destinationKey: try row.value("destination_key")
        )
    }

    static func insert(_ token: RegistrationToken, _ session: SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO registration_token (id, subject_id, secret_mac, pepper_key_id, state, created_at_ms, expires_at_ms, used_at_ms,
                destination_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                token.id, token.subjectID.rawValue, token.secretMAC, token.pepperKeyID, token.state.rawValue,
                Timestamp.milliseconds(of: token.createdAt), Timestamp.milliseconds(of: token.expiresAt), token.usedAt.map(Timestamp.milliseconds(of:)),
                token.destinationKey,
            ]
        )
    }
}
