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

/// The `audit_event` table: appended inside the transaction of the act it records, under the
/// write lock, so that the head read here is the last committed one on every instance.
enum AuditRecords {
    static func append(_ drafts: [AuditDraft], keys: AuditChainKeys, _ session: SQLSession) async throws {
        guard !drafts.isEmpty else { return }
        let head = try await session.row("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        var seq: Int64 = try head?.value("seq") ?? 0
        var previousHash: String = try head?.value("hash") ?? AuditChain.genesisHash
        for draft in drafts {
            seq += 1
            let event = AuditEvent(seq: seq, draft: draft, previousHash: previousHash, keys: keys)
            try await session.execute(
                """
                INSERT INTO audit_event (seq, time_ms, caller, role, actor, subject_id, method, action, outcome,
                    facts, previous_hash, key_id, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    event.seq, Timestamp.milliseconds(of: event.time), event.caller, event.role, event.actor,
                    event.subjectID, event.method, event.action.rawValue, event.outcome,
                    String(decoding: try JSONEncoder.sorted.encode(event.facts), as: UTF8.self),
                    event.previousHash, event.keyID, event.hash,
                ]
            )
            previousHash = event.hash
        }
    }

    static func events(subjectID: SubjectID?, afterSeq: Int64, limit: Int, _ session: SQLSession) async throws -> [AuditEvent] {
        let rows = if let subjectID {
            try await session.rows("SELECT * FROM audit_event WHERE subject_id = ? AND seq > ? ORDER BY seq LIMIT ?", [subjectID.rawValue, afterSeq, limit])
        } else {
            try await session.rows("SELECT * FROM audit_event WHERE seq > ? ORDER BY seq LIMIT ?", [afterSeq, limit])
        }
        return try rows.map(decode)
    }

    /// Walks the whole table in order, a page at a time, in the caller's one snapshot.
    static func verify(keys: AuditChainKeys, _ session: SQLSession) async throws -> AuditChainReport {
        var verifier = AuditChainVerifier(keys: keys)
        var afterSeq: Int64 = 0
        while true {
            let rows = try await session.rows("SELECT * FROM audit_event WHERE seq > ? ORDER BY seq LIMIT 1000", [afterSeq])
            for row in rows {
                let seq: Int64 = try row.value("seq")
                // A row that cannot even be decoded has been tampered with as surely as one whose hash fails.
                guard let event = try? decode(row), verifier.check(event) else { return verifier.report(firstBadSeq: seq) }
                afterSeq = seq
            }
            if rows.count < 1000 { return verifier.report(firstBadSeq: nil) }
        }
    }

    private static func decode(_ row: PostgresRandomAccessRow) throws -> AuditEvent {
        let seq: Int64 = try row.value("seq")
        guard let action = AuditAction(rawValue: try row.value("action")) else {
            throw StoreCorruptionError(table: "audit_event", id: String(seq))
        }
        return AuditEvent(
            seq: seq,
            time: try row.date("time_ms"),
            caller: try row.value("caller"),
            role: try row.value("role"),
            actor: try row.value("actor"),
            subjectID: try row.value("subject_id"),
            method: try row.value("method"),
            action: action,
            outcome: try row.value("outcome"),
            facts: try JSONDecoder.shared.decode([String].self, from: Data((try row.value("facts", as: String.self)).utf8)),
            previousHash: try row.value("previous_hash"),
            keyID: try row.value("key_id"),
            hash: try row.value("hash")
        )
    }
}
