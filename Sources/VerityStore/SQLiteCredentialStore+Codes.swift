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
import VerityCrypto

extension SQLiteCredentialStore {
    package func insertCode(_ challenge: CodeChallenge, delivery: Delivery, audit: AuditDraft, rateLimit: CodeRateLimit) async throws -> CodeIssueOutcome {
        try await write { db in
            let recent = try Int64.fetchAll(
                db,
                sql: "SELECT created_at_ms FROM code_challenge WHERE subject_id = ? AND created_at_ms > ? ORDER BY created_at_ms",
                arguments: [challenge.subjectID.rawValue, Timestamp.milliseconds(of: rateLimit.windowStart)]
            )
            if recent.count >= rateLimit.maximum, let oldest = recent.first {
                return .rateLimited(oldestInWindow: Timestamp.date(milliseconds: oldest))
            }
            let toDestination = try Int64.fetchAll(
                db,
                sql: "SELECT created_at_ms FROM code_challenge WHERE destination_key = ? AND created_at_ms > ? ORDER BY created_at_ms",
                arguments: [challenge.destinationKey, Timestamp.milliseconds(of: rateLimit.windowStart)]
            )
            if toDestination.count >= rateLimit.maximumPerDestination, let oldest = toDestination.first {
                return .destinationRateLimited(oldestInWindow: Timestamp.date(milliseconds: oldest))
            }
            // The replaced code's message must not go out any more: its delivery expires with it.
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL
                    WHERE state = 'PENDING' AND challenge_id IN (
                        SELECT id FROM code_challenge WHERE subject_id = ? AND purpose = ? AND state = 'ACTIVE'
                    )
                    """,
                arguments: [challenge.subjectID.rawValue, challenge.purpose.rawValue]
            )
            try db.execute(
                sql: "UPDATE code_challenge SET state = 'REPLACED' WHERE subject_id = ? AND purpose = ? AND state = 'ACTIVE'",
                arguments: [challenge.subjectID.rawValue, challenge.purpose.rawValue]
            )
            try CodeRow.insert(challenge, db)
            try OutboxRow.insert(delivery, db)
            try AuditTrail.append([audit], keys: self.auditKeys, db)
            return .issued
        }
    }

    package func attemptCode<Value: Sendable>(
        _ id: String,
        subjectID: SubjectID,
        purpose: CodePurpose,
        _ attempt: @escaping @Sendable (inout CodeChallenge) throws -> SubjectModification<Value>
    ) async throws -> Value? {
        try await write { db in
            // The subject and purpose are part of the match: a challenge handed over from
            // another flow is simply not found.
            guard var challenge = try CodeRow.fetch(id, subjectID: subjectID, purpose: purpose, db) else { return nil }
            let modification = try attempt(&challenge)
            try db.execute(
                sql: "UPDATE code_challenge SET state = ?, failed_attempts = ?, verified_at_ms = ? WHERE id = ?",
                arguments: [challenge.state.rawValue, challenge.failedAttempts, challenge.verifiedAt.map(Timestamp.milliseconds(of:)), id]
            )
            try AuditTrail.append(modification.audit, keys: self.auditKeys, db)
            return modification.value
        }
    }

    package func leaseDeliveries(max: Int, channels: Set<DeliveryChannel>, now: Date, until: Date, audit: AuditDraft) async throws -> [Delivery] {
        let names = channels.map(\.rawValue).sorted()
        let channelFilter = names.isEmpty ? "" : "AND channel IN (\(names.map { _ in "?" }.joined(separator: ", ")))"
        return try await write { db in
            let nowMs = Timestamp.milliseconds(of: now)
            try Self.expireDeliveries(nowMs: nowMs, db)
            let candidates = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM outbox WHERE state = 'PENDING' AND (leased_until_ms IS NULL OR leased_until_ms <= ?) \(channelFilter)
                    ORDER BY created_at_ms LIMIT ?
                    """,
                arguments: [nowMs] + StatementArguments(names) + [max]
            )
            var leased: [Delivery] = []
            for id in candidates {
                // Each lease gets a token of its own: the acknowledgement must present it.
                let row = try Row.fetchOne(
                    db,
                    sql: "UPDATE outbox SET leased_until_ms = ?, lease_token = ?, attempts = attempts + 1 WHERE id = ? RETURNING *",
                    arguments: [Timestamp.milliseconds(of: until), Self.leaseToken(), id]
                )
                if let row { leased.append(try OutboxRow.decode(row)) }
            }
            if !leased.isEmpty {
                var event = audit
                event.facts = ["deliveries leased: \(leased.count)"]
                try AuditTrail.append([event], keys: self.auditKeys, db)
            }
            return leased
        }
    }

    package func acknowledgeDelivery(_ id: String, leaseToken: String, outcome: DeliveryState, audit: AuditDraft) async throws -> AcknowledgeOutcome {
        try await write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT lease_token FROM outbox WHERE id = ? AND state = 'PENDING'", arguments: [id]) else {
                return .notFound
            }
            guard let token = current[0] as String?, ConstantTime.equals(Array(token.utf8), Array(leaseToken.utf8)) else { return .leaseLost }
            try db.execute(
                sql: "UPDATE outbox SET state = ?, sealed_content = NULL, leased_until_ms = NULL, lease_token = NULL WHERE id = ?",
                arguments: [outcome.rawValue, id]
            )
            try AuditTrail.append([audit], keys: self.auditKeys, db)
            return .acknowledged
        }
    }

    package func expireDeliveries(now: Date) async throws -> Int {
        try await write { db in try Self.expireDeliveries(nowMs: Timestamp.milliseconds(of: now), db) }
    }

    /// Deliveries nobody acknowledged in time lose their content: a code must not outlive its use.
    private static func expireDeliveries(nowMs: Int64, _ db: Database) throws -> Int {
        try db.execute(
            sql: "UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL WHERE state = 'PENDING' AND expires_at_ms <= ?",
            arguments: [nowMs]
        )
        return db.changesCount
    }

    /// 128 random bits as 32 hex digits.
    private static func leaseToken() -> String {
        SecureRandom.bytes(count: 16).map { String(format: "%02x", $0) }.joined()
    }
}

/// Reads and writes ``CodeChallenge`` values as rows of `code_challenge`.
enum CodeRow {
    static func insert(_ challenge: CodeChallenge, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO code_challenge (id, subject_id, purpose, channel, masked_destination, destination_key, code_mac, pepper_key_id,
                    failed_attempts, state, created_at_ms, expires_at_ms, verified_at_ms, redeemed_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                challenge.id, challenge.subjectID.rawValue, challenge.purpose.rawValue, challenge.channel.rawValue,
                challenge.maskedDestination, challenge.destinationKey, challenge.codeMAC, challenge.pepperKeyID, challenge.failedAttempts,
                challenge.state.rawValue, Timestamp.milliseconds(of: challenge.createdAt), Timestamp.milliseconds(of: challenge.expiresAt),
                challenge.verifiedAt.map(Timestamp.milliseconds(of:)), challenge.redeemedAt.map(Timestamp.milliseconds(of:)),
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
            maskedDestination: row["masked_destination"], destinationKey: row["destination_key"] ?? "", codeMAC: row["code_mac"], pepperKeyID: row["pepper_key_id"],
            failedAttempts: row["failed_attempts"], state: state,
            createdAt: Timestamp.date(milliseconds: row["created_at_ms"]), expiresAt: Timestamp.date(milliseconds: row["expires_at_ms"]),
            verifiedAt: (row["verified_at_ms"] as Int64?).map(Timestamp.date(milliseconds:)),
            redeemedAt: (row["redeemed_at_ms"] as Int64?).map(Timestamp.date(milliseconds:))
        )
    }
}

/// Reads and writes ``Delivery`` values as rows of `outbox`.
enum OutboxRow {
    static func insert(_ delivery: Delivery, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (id, channel, sealed_content, pepper_key_id, state, leased_until_ms, lease_token, challenge_id,
                    change_request_id, attempts, created_at_ms, expires_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                delivery.id, delivery.channel.rawValue, delivery.sealedContent.map { Data($0) }, delivery.pepperKeyID,
                delivery.state.rawValue, delivery.leasedUntil.map(Timestamp.milliseconds(of:)), delivery.leaseToken,
                delivery.challengeID, delivery.changeRequestID, delivery.attempts,
                Timestamp.milliseconds(of: delivery.createdAt), Timestamp.milliseconds(of: delivery.expiresAt),
            ]
        )
    }

    static func decode(_ row: Row) throws -> Delivery {
        guard let channel = DeliveryChannel(rawValue: row["channel"]), let state = DeliveryState(rawValue: row["state"]) else {
            throw StoreCorruptionError(table: "outbox", id: row["id"])
        }
        return Delivery(
            id: row["id"], channel: channel, sealedContent: (row["sealed_content"] as Data?).map(Array.init),
            pepperKeyID: row["pepper_key_id"], state: state,
            leasedUntil: (row["leased_until_ms"] as Int64?).map(Timestamp.date(milliseconds:)), leaseToken: row["lease_token"],
            challengeID: row["challenge_id"], changeRequestID: row["change_request_id"], attempts: row["attempts"],
            createdAt: Timestamp.date(milliseconds: row["created_at_ms"]), expiresAt: Timestamp.date(milliseconds: row["expires_at_ms"])
        )
    }
}

extension SQLiteCredentialStore {
    /// How many deliveries still hold content, for diagnostics.
    package func sealedContentCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE sealed_content IS NOT NULL") ?? 0 }
    }
}
