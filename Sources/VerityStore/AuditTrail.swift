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

/// The `audit_event` table: appended inside the transaction of the act it records.
enum AuditTrail {
    static func append(_ drafts: [AuditDraft], keys: AuditChainKeys, _ db: Database) throws {
        guard !drafts.isEmpty else { return }
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        var seq: Int64 = head?["seq"] ?? 0
        var previousHash: String = head?["hash"] ?? AuditChain.genesisHash
        for draft in drafts {
            seq += 1
            let event = AuditEvent(seq: seq, draft: draft, previousHash: previousHash, keys: keys)
            try db.execute(
                sql: """
                    INSERT INTO audit_event (seq, time_ms, caller, role, actor, subject_id, method, action, outcome,
                        facts, previous_hash, key_id, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.seq, Timestamp.milliseconds(of: event.time), event.caller, event.role, event.actor,
                    event.subjectID, event.method, event.action.rawValue, event.outcome,
                    String(decoding: try JSONEncoder.sorted.encode(event.facts), as: UTF8.self),
                    event.previousHash, event.keyID, event.hash,
                ]
            )
            previousHash = event.hash
        }
    }

    static func events(subjectID: SubjectID?, afterSeq: Int64, limit: Int, _ db: Database) throws -> [AuditEvent] {
        let rows: [Row]
        if let subjectID {
            rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM audit_event WHERE subject_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [subjectID.rawValue, afterSeq, limit]
            )
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [afterSeq, limit])
        }
        return try rows.map(decode)
    }

    /// Walks the whole table in order without holding it all in memory.
    static func verify(keys: AuditChainKeys, _ db: Database) throws -> AuditChainReport {
        var verifier = AuditChainVerifier(keys: keys)
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_event ORDER BY seq")
        while let row = try rows.next() {
            // A row that cannot even be decoded has been tampered with as surely as one whose hash fails.
            guard let event = try? decode(row), verifier.check(event) else {
                return verifier.report(firstBadSeq: row["seq"])
            }
        }
        return verifier.report(firstBadSeq: nil)
    }

    private static func decode(_ row: Row) throws -> AuditEvent {
        guard let action = AuditAction(rawValue: row["action"]) else {
            throw StoreCorruptionError(table: "audit_event", id: String(row["seq"] as Int64))
        }
        return AuditEvent(
            seq: row["seq"],
            time: Timestamp.date(milliseconds: row["time_ms"]),
            caller: row["caller"],
            role: row["role"],
            actor: row["actor"],
            subjectID: row["subject_id"],
            method: row["method"],
            action: action,
            outcome: row["outcome"],
            facts: try JSONDecoder.shared.decode([String].self, from: Data((row["facts"] as String).utf8)),
            previousHash: row["previous_hash"],
            keyID: row["key_id"],
            hash: row["hash"]
        )
    }
}
