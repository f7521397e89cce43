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
import VerityCrypto

extension PostgresCredentialStore {
    package func insertCode(_ challenge: CodeChallenge, delivery: Delivery, audit: AuditDraft, rateLimit: CodeRateLimit) async throws -> CodeIssueOutcome {
        try await write { session in
            let windowStart = Timestamp.milliseconds(of: rateLimit.windowStart)
            let recent = try await session.rows(
                "SELECT created_at_ms FROM code_challenge WHERE subject_id = ? AND created_at_ms > ? ORDER BY created_at_ms",
                [challenge.subjectID.rawValue, windowStart]
            )
            if recent.count >= rateLimit.maximum, let oldest = recent.first {
                return .rateLimited(oldestInWindow: try oldest.date("created_at_ms"))
            }
            let toDestination = try await session.rows(
                "SELECT created_at_ms FROM code_challenge WHERE destination_key = ? AND created_at_ms > ? ORDER BY created_at_ms",
                [challenge.destinationKey, windowStart]
            )
            if toDestination.count >= rateLimit.maximumPerDestination, let oldest = toDestination.first {
                return .destinationRateLimited(oldestInWindow: try oldest.date("created_at_ms"))
            }
            // The replaced code's message must not go out any more: its delivery expires with it.
            try await session.execute(
                """
                UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL
                WHERE state = 'PENDING' AND challenge_id IN (
                    SELECT id FROM code_challenge WHERE subject_id = ? AND purpose = ? AND state = 'ACTIVE'
                )
                """,
                [challenge.subjectID.rawValue, challenge.purpose.rawValue]
            )
            try await session.execute(
                "UPDATE code_challenge SET state = 'REPLACED' WHERE subject_id = ? AND purpose = ? AND state = 'ACTIVE'",
                [challenge.subjectID.rawValue, challenge.purpose.rawValue]
            )
            try await CodeRecord.insert(challenge, session)
            try await OutboxRecord.insert(delivery, session)
            try await AuditRecords.append([audit], keys: self.auditKeys, session)
            return .issued
        }
    }

    package func attemptCode<Value: Sendable>(
        _ id: String,
        subjectID: SubjectID,
        purpose: CodePurpose,
        _ attempt: @escaping @Sendable (inout CodeChallenge) throws -> SubjectModification<Value>
    ) async throws -> Value? {
        try await write { session in
            guard var challenge = try await CodeRecord.fetch(id, subjectID: subjectID, purpose: purpose, session) else { return nil }
            let modification = try attempt(&challenge)
            try await session.execute(
                "UPDATE code_challenge SET state = ?, failed_attempts = ?, verified_at_ms = ? WHERE id = ?",
                [challenge.state.rawValue, challenge.failedAttempts, challenge.verifiedAt.map(Timestamp.milliseconds(of:)), id]
            )
            try await AuditRecords.append(modification.audit, keys: self.auditKeys, session)
            return modification.value
        }
    }

    package func leaseDeliveries(max: Int, channels: Set<DeliveryChannel>, now: Date, until: Date, audit: AuditDraft) async throws -> [Delivery] {
        let names = channels.map(\.rawValue).sorted()
        let channelFilter = names.isEmpty ? "" : "AND channel IN (\(names.map { _ in "?" }.joined(separator: ", ")))"
        return try await write { session in
            let nowMs = Timestamp.milliseconds(of: now)
            _ = try await Self.expireDeliveries(nowMs: nowMs, session)
            // Rows another lessee holds are skipped, not waited for.
            let candidates = try await session.rows(
                """
                SELECT id FROM outbox WHERE state = 'PENDING' AND (leased_until_ms IS NULL OR leased_until_ms <= ?) \(channelFilter)
                ORDER BY created_at_ms, id LIMIT ? FOR UPDATE SKIP LOCKED
                """,
                [nowMs] + names + [max]
            )
            var leased: [Delivery] = []
            for candidate in candidates {
                // Each lease gets a token of its own: the acknowledgement must present it.
                let row = try await session.row(
                    "UPDATE outbox SET leased_until_ms = ?, lease_token = ?, attempts = attempts + 1 WHERE id = ? RETURNING *",
                    [Timestamp.milliseconds(of: until), Self.leaseToken(), try candidate.value("id", as: String.self)]
                )
                if let row { leased.append(try OutboxRecord.decode(row)) }
            }
            if !leased.isEmpty {
                var event = audit
                event.facts = ["deliveries leased: \(leased.count)"]
                try await AuditRecords.append([event], keys: self.auditKeys, session)
            }
            return leased
        }
    }

    package func acknowledgeDelivery(_ id: String, leaseToken: String, outcome: DeliveryState, audit: AuditDraft) async throws -> AcknowledgeOutcome {
        try await write { session in
            guard let current = try await session.row("SELECT lease_token FROM outbox WHERE id = ? AND state = 'PENDING' FOR UPDATE", [id]) else {
                return .notFound
            }
            guard let token = try current.value("lease_token", as: String?.self), ConstantTime.equals(Array(token.utf8), Array(leaseToken.utf8)) else {
                return .leaseLost
            }
            try await session.execute(
                "UPDATE outbox SET state = ?, sealed_content = NULL, leased_until_ms = NULL, lease_token = NULL WHERE id = ?",
                [outcome.rawValue, id]
            )
            try await AuditRecords.append([audit], keys: self.auditKeys, session)
            return .acknowledged
        }
    }

    package func expireDeliveries(now: Date) async throws -> Int {
        try await write { session in try await Self.expireDeliveries(nowMs: Timestamp.milliseconds(of: now), session) }
    }

    /// Deliveries nobody acknowledged in time lose their content: a code must not outlive its use.
    private static func expireDeliveries(nowMs: Int64, _ session: SQLSession) async throws -> Int {
        try await session.rows(
            "UPDATE outbox SET state = 'EXPIRED', sealed_content = NULL, lease_token = NULL WHERE state = 'PENDING' AND expires_at_ms <= ? RETURNING id",
            [nowMs]
        ).count
    }

    /// 128 random bits as 32 hex digits.
    private static func leaseToken() -> String {
        SecureRandom.bytes(count: 16).map { String(format: "%02x", $0) }.joined()
    }

    package func codeChallenge(_ id: String, subjectID: SubjectID, purpose: CodePurpose) async throws -> CodeChallenge? {
        try await read { session in try await CodeRecord.fetch(id, subjectID: subjectID, purpose: purpose, session) }
    }

    /// How many deliveries still hold content, for diagnostics.
    package func sealedContentCount() async throws -> Int {
        try await read { session in try await session.scalar("SELECT count(*) FROM outbox WHERE sealed_content IS NOT NULL") }
    }
}

/// Reads and writes ``CodeChallenge`` values as rows of `code_challenge`.
enum CodeRecord {
    /// The challenge `id`, only if it is `subjectID`'s and for `purpose`: a challenge of another
    /// flow is not found.
    static func fetch(_ id: String, subjectID: SubjectID, purpose: CodePurpose, _ session: SQLSession) async throws -> CodeChallenge? {
        try await session.row(
            "SELECT * FROM code_challenge WHERE id = ? AND subject_id = ? AND purpose = ?", [id, subjectID.rawValue, purpose.rawValue]
        ).map(decode)
    }

    static func insert(_ challenge: CodeChallenge, _ session: SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO code_challenge (id, subject_id, purpose, channel, masked_destination, destination_key, code_mac, pepper_key_id,
                failed_attempts, state, created_at_ms, expires_at_ms, verified_at_ms, redeemed_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                challenge.id, challenge.subjectID.rawValue, challenge.purpose.rawValue, challenge.channel.rawValue,
                challenge.maskedDestination, challenge.destinationKey, challenge.codeMAC, challenge.pepperKeyID, challenge.failedAttempts,
                challenge.state.rawValue, Timestamp.milliseconds(of: challenge.createdAt), Timestamp.milliseconds(of: challenge.expiresAt),
                challenge.verifiedAt.map(Timestamp.milliseconds(of:)), challenge.redeemedAt.map(Timestamp.milliseconds(of:)),
            ]
        )
    }

    static func updateRedemption(_ challenge: CodeChallenge, _ session: SQLSession) async throws {
        try await session.execute(
            "UPDATE code_challenge SET redeemed_at_ms = ? WHERE id = ?", [challenge.redeemedAt.map(Timestamp.milliseconds(of:)), challenge.id]
        )
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> CodeChallenge {
        let id: String = try row.value("id")
        guard
            let purpose = CodePurpose(rawValue: try row.value("purpose")),
            let channel = CodeChannel(rawValue: try row.value("channel")),
            let state = CodeChallengeState(rawValue: try row.value("state"))
        else { throw StoreCorruptionError(table: "code_challenge", id: id) }
        return CodeChallenge(
            id: id, subjectID: try SubjectID(try row.value("subject_id")), purpose: purpose, channel: channel,
            maskedDestination: try row.value("masked_destination"), destinationKey: try row.value("destination_key"),
            codeMAC: try row.value("code_mac"), pepperKeyID: try row.value("pepper_key_id"),
            failedAttempts: try row.value("failed_attempts"), state: state,
            createdAt: try row.date("created_at_ms"), expiresAt: try row.date("expires_at_ms"),
            verifiedAt: try row.optionalDate("verified_at_ms"), redeemedAt: try row.optionalDate("redeemed_at_ms")
        )
    }
}

/// Reads and writes ``Delivery`` values as rows of `outbox`.
enum OutboxRecord {
    static func insert(_ delivery: Delivery, _ session: SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO outbox (id, channel, sealed_content, pepper_key_id, state, leased_until_ms, lease_token, challenge_id,
                change_request_id, attempts, created_at_ms, expires_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                delivery.id, delivery.channel.rawValue, delivery.sealedContent.map { ByteBuffer(bytes: $0) }, delivery.pepperKeyID,
                delivery.state.rawValue, delivery.leasedUntil.map(Timestamp.milliseconds(of:)), delivery.leaseToken,
                delivery.challengeID, delivery.changeRequestID, delivery.attempts,
                Timestamp.milliseconds(of: delivery.createdAt), Timestamp.milliseconds(of: delivery.expiresAt),
            ]
        )
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> Delivery {
        let id: String = try row.value("id")
        guard let channel = DeliveryChannel(rawValue: try row.value("channel")), let state = DeliveryState(rawValue: try row.value("state")) else {
            throw StoreCorruptionError(table: "outbox", id: id)
        }
        return Delivery(
            id: id, channel: channel, sealedContent: try row.value("sealed_content", as: ByteBuffer?.self).map { Array($0.readableBytesView) },
            pepperKeyID: try row.value("pepper_key_id"), state: state,
            leasedUntil: try row.optionalDate("leased_until_ms"), leaseToken: try row.value("lease_token"),
            challengeID: try row.value("challenge_id"), changeRequestID: try row.value("change_request_id"), attempts: try row.value("attempts"),
            createdAt: try row.date("created_at_ms"), expiresAt: try row.date("expires_at_ms")
        )
    }
}
