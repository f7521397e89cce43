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
    package func insertRegistrationToken(_ token: RegistrationToken, delivery: Delivery, audit: AuditDraft) async throws {
        try await write { db in
            guard try SubjectRow.fetch(token.subjectID, db) != nil else { throw CredentialError.notFound(token.subjectID) }
            // The e-mail of a replaced token must not go out any more.
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL
                    WHERE state = 'PENDING' AND challenge_id IN (SELECT id FROM registration_token WHERE subject_id = ? AND state = 'ACTIVE')
                    """,
                arguments: [token.subjectID.rawValue]
            )
            try db.execute(
                sql: "UPDATE registration_token SET state = 'REPLACED' WHERE subject_id = ? AND state = 'ACTIVE'", arguments: [token.subjectID.rawValue]
            )
            try RegistrationTokenRow.insert(token, db)
            try OutboxRow.insert(delivery, db)
            try AuditTrail.append([audit], keys: self.auditKeys, db)
        }
    }

    package func registrationToken(_ id: String) async throws -> RegistrationToken? {
        try await read { db in try RegistrationTokenRow.fetch(id, db) }
    }

    package func codeChallenge(_ id: String, subjectID: SubjectID, purpose: CodePurpose) async throws -> CodeChallenge? {
        try await read { db in try CodeRow.fetch(id, subjectID: subjectID, purpose: purpose, db) }
    }

    package func redeemRegistrationToken<Value: Sendable>(
        _ id: String, _ redeem: @escaping @Sendable (inout RegistrationToken, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value? {
        try await write { db in
            guard let previousToken = try RegistrationTokenRow.fetch(id, db) else { return nil }
            guard let previousSubject = try SubjectRow.fetch(previousToken.subjectID, db) else {
                throw StoreCorruptionError(table: "registration_token", id: id)
            }
            var (token, subject) = (previousToken, previousSubject)
            let write = try redeem(&token, &subject)
            if token != previousToken { try RegistrationTokenRow.update(token, db) }
            if subject != previousSubject { try SubjectRow.update(subject, previous: previousSubject, db) }
            try AuditTrail.append(write.audit, keys: self.auditKeys, db)
            return write.value
        }
    }

    package func redeemCode<Value: Sendable>(
        _ id: String, subjectID: SubjectID, purpose: CodePurpose,
        _ redeem: @escaping @Sendable (inout CodeChallenge, inout Subject) throws -> WorkflowWrite<Value>
    ) async throws -> Value? {
        try await write { db in
            guard let previousChallenge = try CodeRow.fetch(id, subjectID: subjectID, purpose: purpose, db),
                  let previousSubject = try SubjectRow.fetch(subjectID, db) else { return nil }
            var (challenge, subject) = (previousChallenge, previousSubject)
            let write = try redeem(&challenge, &subject)
            if challenge != previousChallenge { try CodeRow.updateRedemption(challenge, db) }
            if subject != previousSubject { try SubjectRow.update(subject, previous: previousSubject, db) }
            try AuditTrail.append(write.audit, keys: self.auditKeys, db)
            return write.value
        }
    }
}

extension CodeRow {
    /// The challenge `id`, only if it is `subjectID`'s and for `purpose`: a challenge of another
    /// flow is not found.
    static func fetch(_ id: String, subjectID: SubjectID, purpose: CodePurpose, _ db: Database) throws -> CodeChallenge? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM code_challenge WHERE id = ? AND subject_id = ? AND purpose = ?", arguments: [id, subjectID.rawValue, purpose.rawValue]
        ).map(decode)
    }

    static func updateRedemption(_ challenge: CodeChallenge, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE code_challenge SET redeemed_at_ms = ? WHERE id = ?",
            arguments: [challenge.redeemedAt.map(Timestamp.milliseconds(of:)), challenge.id]
        )
    }
}

/// Reads and writes ``RegistrationToken`` values as rows of `registration_token`.
enum RegistrationTokenRow {
    static func fetch(_ id: String, _ db: Database) throws -> RegistrationToken? {
        guard let row = try Row.fetchOne(
            db,
            sql: """
                SELECT id, subject_id, secret_mac, pepper_key_id, state, created_at_ms, expires_at_ms, used_at_ms, destination_key
                FROM registration_token WHERE id = ?
                """,
            arguments: [id]
        ) else { return nil }
        guard let state = RegistrationToken.State(rawValue: row[4]) else { throw StoreCorruptionError(table: "registration_token", id: id) }
        return RegistrationToken(
            id: row[0], subjectID: try SubjectID(row[1]), secretMAC: row[2], pepperKeyID: row[3], state: state,
            createdAt: Timestamp.date(milliseconds: row[5]), expiresAt: Timestamp.date(milliseconds: row[6]),
            usedAt: (row[7] as Int64?).map(Timestamp.date(milliseconds:)), destinationKey: row[8]
        )
    }

    static func insert(_ token: RegistrationToken, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO registration_token (id, subject_id, secret_mac, pepper_key_id, state, created_at_ms, expires_at_ms, used_at_ms,
                    destination_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                token.id, token.subjectID.rawValue, token.secretMAC, token.pepperKeyID, token.state.rawValue,
                Timestamp.milliseconds(of: token.createdAt), Timestamp.milliseconds(of: token.expiresAt), token.usedAt.map(Timestamp.milliseconds(of:)),
                token.destinationKey,
            ]
        )
    }

    static func update(_ token: RegistrationToken, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE registration_token SET state = ?, used_at_ms = ? WHERE id = ?",
            arguments: [token.state.rawValue, token.usedAt.map(Timestamp.milliseconds(of:)), token.id]
        )
    }
}
