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
    package func linkFacts(of subjectID: SubjectID) async throws -> LinkFacts? {
        try await read { db in try LinkRows.facts(of: subjectID, db) }
    }

    package func setLinkFacts(_ facts: LinkFacts, for subjectID: SubjectID, audit: AuditDraft, now: Date) async throws {
        try await write { db in
            guard try SubjectRow.fetch(subjectID, db) != nil else { throw CredentialError.notFound(subjectID) }
            try db.execute(
                sql: """
                    INSERT INTO link_facts (subject_id, facts, updated_at_ms) VALUES (?, ?, ?)
                    ON CONFLICT (subject_id) DO UPDATE SET facts = excluded.facts, updated_at_ms = excluded.updated_at_ms
                    """,
                arguments: [subjectID.rawValue, String(decoding: try JSONEncoder.sorted.encode(facts), as: UTF8.self), Timestamp.milliseconds(of: now)]
            )
            try AuditTrail.append([audit], keys: self.auditKeys, db)
        }
    }

    package func modifyLinks<Value: Sendable>(_ scope: LinkScope, _ change: @escaping @Sendable (inout LinkLedger) throws -> WorkflowWrite<Value>) async throws -> Value {
        try await write { db in
            let previous = try LinkRows.ledger(for: scope, db)
            var ledger = previous
            let write = try change(&ledger)
            try LinkRows.save(ledger, over: previous, db)
            try AuditTrail.append(write.audit, keys: self.auditKeys, db)
            return write.value
        }
    }

    package func workflowBacklog(at now: Date) async throws -> WorkflowBacklog {
        try await read { db in
            WorkflowBacklog(
                overdueChangeRequests: try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM change_request WHERE status IN ('OPEN', 'IN_PROGRESS', 'WAITING') AND due_at_ms <= ?",
                    arguments: [Timestamp.milliseconds(of: now)]
                ) ?? 0,
                pendingLinkRequests: try Int.fetchOne(db, sql: "SELECT count(*) FROM link_request WHERE status = 'PENDING'") ?? 0
            )
        }
    }

    package func portalLink(of subjectID: SubjectID) async throws -> PortalLink? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT portal_account_id, subject_id, linked_at_ms, method FROM portal_link WHERE subject_id = ?", arguments: [subjectID.rawValue]
            ).map(LinkRows.link)
        }
    }

    package func linkRequest(_ id: String) async throws -> LinkRequest? {
        try await read { db in try LinkRows.requests(where: "id = ?", [id], db).first }
    }

    package func linkRequests(matching query: LinkRequestQuery) async throws -> [LinkRequest] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if !query.statuses.isEmpty {
            conditions.append("status IN (\(query.statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(query.statuses.map(\.rawValue).sorted())
        }
        if let name = query.registrantName {
            conditions.append("instr(registrant_search, ?) > 0")
            arguments += [LinkText.searchable(name)]
        }
        if let subjectID = query.subjectID {
            conditions.append("subject_id = ?")
            arguments += [subjectID.rawValue]
        }
        if let county = query.county {
            conditions.append("county = ?")
            arguments += [county]
        }
        if let from = query.requestedFrom {
            conditions.append("requested_at_ms >= ?")
            arguments += [Timestamp.milliseconds(of: from)]
        }
        if let to = query.requestedTo {
            conditions.append("requested_at_ms <= ?")
            arguments += [Timestamp.milliseconds(of: to)]
        }
        if let after = query.after {
            conditions.append("(requested_at_ms, id) > (?, ?)")
            arguments += [Timestamp.milliseconds(of: after.time), after.id]
        }
        let filter = (conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")) + " ORDER BY requested_at_ms, id LIMIT ?"
        arguments += [query.limit]
        return try await read { [arguments] db in try LinkRows.requests(where: filter, arguments, db) }
    }
}

/// Reads and writes the rows of linking: `link_facts`, `portal_link` and `link_request`.
enum LinkRows {
    static func facts(of subjectID: SubjectID, _ db: Database) throws -> LinkFacts? {
        try String.fetchOne(db, sql: "SELECT facts FROM link_facts WHERE subject_id = ?", arguments: [subjectID.rawValue])
            .map { try JSONDecoder.shared.decode(LinkFacts.self, from: Data($0.utf8)) }
    }

    /// What an act in `scope` looks at.
    static func ledger(for scope: LinkScope, _ db: Database) throws -> LinkLedger {
        let subjectID: SubjectID
        var accountID: String?
        var requests: [LinkRequest] = []
        var challenge: CodeChallenge?
        switch scope {
        case let .submission(subject, account, challengeID):
            (subjectID, accountID) = (subject, account)
            if let challengeID { challenge = try CodeRow.fetch(challengeID, subjectID: subject, purpose: .accountLink, db) }
            requests = try Self.requests(where: "subject_id = ? AND status = 'PENDING' ORDER BY requested_at_ms, id", [subject.rawValue], db)
        case let .request(id):
            guard let request = try Self.requests(where: "id = ?", [id], db).first else {
                throw CredentialService.unknownLinkRequest(id)
            }
            (subjectID, accountID) = (request.subjectID, request.portalAccountID)
            requests = [request] + (try Self.requests(where: "submission_id = ? AND id <> ? ORDER BY requested_at_ms, id", [request.submissionID, id], db))
        case let .subject(subject):
            subjectID = subject
        }
        guard let subject = try SubjectRow.fetch(subjectID, db) else { throw CredentialError.notFound(subjectID) }
        let links = try Row.fetchAll(
            db, sql: "SELECT portal_account_id, subject_id, linked_at_ms, method FROM portal_link WHERE subject_id = ? OR portal_account_id = ?",
            arguments: [subjectID.rawValue, accountID]
        ).map(link)
        return LinkLedger(subject: subject, facts: try facts(of: subjectID, db), links: links, requests: requests, challenge: challenge)
    }

    /// Writes what an act changed: links gone and new, requests new and changed, a challenge redeemed.
    static func save(_ ledger: LinkLedger, over previous: LinkLedger, _ db: Database) throws {
        for gone in previous.links where !ledger.links.contains(gone) {
            try db.execute(sql: "DELETE FROM portal_link WHERE portal_account_id = ?", arguments: [gone.portalAccountID])
        }
        for new in ledger.links where !previous.links.contains(new) {
            try db.execute(
                sql: "INSERT INTO portal_link (portal_account_id, subject_id, linked_at_ms, method) VALUES (?, ?, ?, ?)",
                arguments: [new.portalAccountID, new.subjectID.rawValue, Timestamp.milliseconds(of: new.linkedAt), new.method.rawValue]
            )
        }
        let known = Dictionary(previous.requests.map { ($0.id, $0) }) { first, _ in first }
        for request in ledger.requests where known[request.id] != request {
            try db.execute(
                sql: """
                    INSERT INTO link_request (id, submission_id, portal_account_id, subject_id, county, registrant_name, registrant_search,
                        status, origin, holds, requested_at_ms, decided_at_ms, decision)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET status = excluded.status, decided_at_ms = excluded.decided_at_ms, decision = excluded.decision
                    """,
                arguments: [
                    request.id, request.submissionID, request.portalAccountID, request.subjectID.rawValue, request.county, request.registrantName,
                    LinkText.searchable(request.registrantName), request.status.rawValue, request.origin.rawValue, request.holds.map(\.rawValue).joined(separator: ","),
                    Timestamp.milliseconds(of: request.requestedAt), request.decidedAt.map(Timestamp.milliseconds(of:)), request.decision,
                ]
            )
        }
        if let challenge = ledger.challenge, challenge != previous.challenge { try CodeRow.updateRedemption(challenge, db) }
    }

    static func requests(where condition: String, _ arguments: StatementArguments, _ db: Database) throws -> [LinkRequest] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, submission_id, portal_account_id, subject_id, county, registrant_name, status, origin, holds, requested_at_ms,
                    decided_at_ms, decision
                FROM link_request WHERE \(condition)
                """,
            arguments: arguments
        ).map(request)
    }

    private static func request(_ row: Row) throws -> LinkRequest {
        let id: String = row[0]
        let holds = (row[8] as String).split(separator: ",").map { LinkRequest.Hold(rawValue: String($0)) }
        guard let status = LinkRequest.Status(rawValue: row[6]), let origin = LinkRequest.Origin(rawValue: row[7]), !holds.contains(nil) else {
            throw StoreCorruptionError(table: "link_request", id: id)
        }
        return LinkRequest(
            id: id, submissionID: row[1], portalAccountID: row[2], subjectID: try SubjectID(row[3]), county: row[4], registrantName: row[5],
            status: status, origin: origin, holds: holds.compactMap { $0 }, requestedAt: Timestamp.date(milliseconds: row[9]),
            decidedAt: (row[10] as Int64?).map(Timestamp.date(milliseconds:)), decision: row[11]
        )
    }

    static func link(_ row: Row) throws -> PortalLink {
        guard let method = PortalLink.Method(rawValue: row[3]) else { throw StoreCorruptionError(table: "portal_link", id: row[0]) }
        return PortalLink(portalAccountID: row[0], subjectID: try SubjectID(row[1]), linkedAt: Timestamp.date(milliseconds: row[2]), method: method)
    }
}
