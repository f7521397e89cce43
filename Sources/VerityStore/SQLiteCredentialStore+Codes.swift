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
    public func insertCode(_ challenge: CodeChallenge, delivery: Delivery, audit: AuditDraft, rateLimit: CodeRateLimit) async throws -> CodeIssueOutcome {
        try await writer.write { db in
            let recent = try Int64.fetchAll(
                db,
                sql: "SELECT created_at_ms FROM code_challenge WHERE subject_id = ? AND created_at_ms > ? ORDER BY created_at_ms",
                arguments: [challenge.subjectID.rawValue, Timestamp.milliseconds(of: rateLimit.windowStart)]
            )
            if recent.count >= rateLimit.maximum, let oldest = recent.first {
                return .rateLimited(oldestInWindow: Timestamp.date(milliseconds: oldest))
            }
            try db.execute(
                sql: "UPDATE code_challenge SET state = 'REPLACED' WHERE subject_id = ? AND purpose = ? AND state = 'ACTIVE'",
                arguments: [challenge.subjectID.rawValue, challenge.purpose.rawValue]
            )
            try CodeRow.insert(challenge, db)
            try OutboxRow.insert(delivery, db)
            try AuditTrail.append([audit], db)
            return .issued
        }
    }

    public func reserveCodeAttempt(_ id: String, limit: Int, now: Date) async throws -> CodeReservation {
        try await writer.write { db in
            // As for security checks, the try is counted in the one statement that decides
            // whether it may be evaluated at all.
            let reserved = try Row.fetchOne(
                db,
                sql: """
                    UPDATE code_challenge SET failed_attempts = failed_attempts + 1
                    WHERE id = ? AND state = 'ACTIVE' AND failed_attempts < ? AND expires_at_ms > ?
                    RETURNING *
                    """,
                arguments: [id, limit, Timestamp.milliseconds(of: now)]
            )
            if let reserved { return .reserved(try CodeRow.decode(reserved)) }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM code_challenge WHERE id = ?", arguments: [id]) else { return .notFound }
            return .refused(try CodeRow.decode(row))
        }
    }

    public func finishCodeAttempt(_ id: String, matched: Bool, limit: Int, audit: AuditDraft) async throws {
        try await writer.write { db in
            if matched {
                try db.execute(
                    sql: "UPDATE code_challenge SET state = 'USED', failed_attempts = failed_attempts - 1 WHERE id = ? AND state = 'ACTIVE'",
                    arguments: [id]
                )
            } else {
                try db.execute(
                    sql: "UPDATE code_challenge SET state = 'EXHAUSTED' WHERE id = ? AND state = 'ACTIVE' AND failed_attempts >= ?",
                    arguments: [id, limit]
                )
            }
            try AuditTrail.append([audit], db)
        }
    }

    public func leaseDeliveries(max: Int, now: Date, until: Date, audit: AuditDraft) async throws -> [Delivery] {
        try await writer.write { db in
            let nowMs = Timestamp.milliseconds(of: now)
            // Deliveries nobody acknowledged in time lose their content: a code must not outlive its use.
            try db.execute(
                sql: "UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL WHERE state = 'PENDING' AND expires_at_ms <= ?",
                arguments: [nowMs]
            )
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE outbox SET leased_until_ms = ?, attempts = attempts + 1
                    WHERE id IN (
                        SELECT id FROM outbox WHERE state = 'PENDING' AND (leased_until_ms IS NULL OR leased_until_ms <= ?)
                        ORDER BY created_at_ms LIMIT ?
                    )
                    RETURNING *
                    """,
                arguments: [Timestamp.milliseconds(of: until), nowMs, max]
            )
            if !rows.isEmpty {
                var leased = audit
                leased.facts = ["deliveries leased: \(rows.count)"]
                try AuditTrail.append([leased], db)
            }
            return try rows.map(OutboxRow.decode).sorted { $0.createdAt < $1.createdAt }
        }
    }

    public func acknowledgeDelivery(_ id: String, outcome: DeliveryState, audit: AuditDraft) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE outbox SET state = ?, sealed_content = NULL, leased_until_ms = NULL WHERE id = ? AND state = 'PENDING'",
                arguments: [outcome.rawValue, id]
            )
            guard db.changesCount == 1 else { return false }
            try AuditTrail.append([audit], db)
            return true
        }
    }
}

/// Reads and writes ``CodeChallenge`` values as rows of `code_challenge`.
enum CodeRow {
    static func insert(_ challenge: CodeChallenge, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO code_challenge (id, subject_id, purpose, channel, masked_destination, code_mac, pepper_key_id,
                    failed_attempts, state, created_at_ms, expires_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                challenge.id, challenge.subjectID.rawValue, challenge.purpose.rawValue, challenge.channel.rawValue,
                challenge.maskedDestination, challenge.codeMAC, challenge.pepperKeyID, challenge.failedAttempts,
                challenge.state.rawValue, Timestamp.milliseconds(of: challenge.createdAt), Timestamp.milliseconds(of: challenge.expiresAt),
            ]
        )
    }

    static func decode(_ row: Row) throws -> CodeChallenge {
        guard
            let purpose = CodePurpose(rawValue: row["purpose"]),
            let channel = CodeChannel(rawValue: row["channel"]),
            let state = CodeChallengeState(rawValue: row["state"])
        else { throw StoreCorruptionError(table: "code_challenge", id: row["id"]) }
        return CodeChallenge(
            id: row["id"], subjectID: try SubjectID(row["subject_id"]), purpose: purpose, channel: channel,
            maskedDestination: row["masked_destination"], codeMAC: row["code_mac"], pepperKeyID: row["pepper_key_id"],
            failedAttempts: row["failed_attempts"], state: state,
            createdAt: Timestamp.date(milliseconds: row["created_at_ms"]), expiresAt: Timestamp.date(milliseconds: row["expires_at_ms"])
        )
    }
}

/// Reads and writes ``Delivery`` values as rows of `outbox`.
enum OutboxRow {
    static func insert(_ delivery: Delivery, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (id, channel, sealed_content, pepper_key_id, state, leased_until_ms, attempts, created_at_ms, expires_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                delivery.id, delivery.channel.rawValue, delivery.sealedContent.map { Data($0) }, delivery.pepperKeyID,
                delivery.state.rawValue, delivery.leasedUntil.map(Timestamp.milliseconds(of:)), delivery.attempts,
                Timestamp.milliseconds(of: delivery.createdAt), Timestamp.milliseconds(of: delivery.expiresAt),
            ]
        )
    }

    static func decode(_ row: Row) throws -> Delivery {
        guard let channel = CodeChannel(rawValue: row["channel"]), let state = DeliveryState(rawValue: row["state"]) else {
            throw StoreCorruptionError(table: "outbox", id: row["id"])
        }
        return Delivery(
            id: row["id"], channel: channel, sealedContent: (row["sealed_content"] as Data?).map(Array.init),
            pepperKeyID: row["pepper_key_id"], state: state,
            leasedUntil: (row["leased_until_ms"] as Int64?).map(Timestamp.date(milliseconds:)), attempts: row["attempts"],
            createdAt: Timestamp.date(milliseconds: row["created_at_ms"]), expiresAt: Timestamp.date(milliseconds: row["expires_at_ms"])
        )
    }
}

extension SQLiteCredentialStore {
    /// How many deliveries still hold content, for diagnostics.
    public func sealedContentCount() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE sealed_content IS NOT NULL") ?? 0 }
    }
}
