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
    package func linkFacts(of subjectID: SubjectID) async throws -> LinkFacts? {
        try await read { session in try await LinkRecords.facts(of: subjectID, session) }
    }

    package func setLinkFacts(_ facts: LinkFacts, for subjectID: SubjectID, audit: AuditDraft, now: Date) async throws {
        try await write { session in
            guard try await session.row("SELECT 1 FROM subject WHERE id = ?", [subjectID.rawValue]) != nil else { throw CredentialError.notFound(subjectID) }
            try await session.execute(
                """
                INSERT INTO link_facts (subject_id, facts, updated_at_ms) VALUES (?, ?, ?)
                ON CONFLICT (subject_id) DO UPDATE SET facts = excluded.facts, updated_at_ms = excluded.updated_at_ms
                """,
                [subjectID.rawValue, String(decoding: try JSONEncoder.sorted.encode(facts), as: UTF8.self), Timestamp.milliseconds(of: now)]
            )
            try await AuditRecords.append([audit], keys: self.auditKeys, session)
        }
    }

    package func modifyLinks<Value: Sendable>(_ scope: LinkScope, _ change: @escaping @Sendable (inout LinkLedger) throws -> WorkflowWrite<Value>) async throws -> Value {
        try await write { session in
            let previous = try await LinkRecords.ledger(for: scope, session)
            var ledger = previous
            let write = try change(&ledger)
            try await LinkRecords.save(ledger, over: previous, session)
            try await AuditRecords.append(write.audit, keys: self.auditKeys, session)
            return write.value
        }
    }

    package func workflowBacklog(at now: Date) async throws -> WorkflowBacklog {
        try await read { session in
            WorkflowBacklog(
                overdueChangeRequests: try await session.scalar(
                    "SELECT count(*) FROM change_request WHERE status IN ('OPEN', 'IN_PROGRESS', 'WAITING') AND due_at_ms <= ?",
                    [Timestamp.milliseconds(of: now)]
                ),
                pendingLinkRequests: try await session.scalar("SELECT count(*) FROM link_request WHERE status = 'PENDING'")
            )
        }
    }

    package func portalLink(of subjectID: SubjectID) async throws -> PortalLink? {
        try await read { session in
            try await session.row("SELECT * FROM portal_link WHERE subject_id = ?", [subjectID.rawValue]).map(LinkRecords.link)
        }
    }

    package func linkRequest(_ id: String) async throws -> LinkRequest? {
        try await read { session in try await LinkRecords.requests(where: "id = ?", [id], session).first }
    }

    package func linkRequests(matching query: LinkRequestQuery) async throws -> [LinkRequest] {
        var conditions: [String] = []
        var arguments: [any SQLArgument] = []
        if !query.statuses.isEmpty {
            conditions.append("status IN (\(query.statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += query.statuses.map(\.rawValue).sorted()
        }
        if let name = query.registrantName {
            conditions.append("strpos(registrant_search, ?) > 0")
            arguments.append(LinkText.searchable(name))
        }
        if let subjectID = query.subjectID {
            conditions.append("subject_id = ?")
            arguments.append(subjectID.rawValue)
        }
        if let county = query.county {
            conditions.append("county = ?")
            arguments.append(county)
        }
        if let from = query.requestedFrom {
            conditions.append("requested_at_ms >= ?")
            arguments.append(Timestamp.milliseconds(of: from))
        }
        if let to = query.requestedTo {
            conditions.append("requested_at_ms <= ?")
            arguments.append(Timestamp.milliseconds(of: to))
        }
        if let after = query.after {
            conditions.append("(requested_at_ms, id) > (?, ?)")
            arguments += [Timestamp.milliseconds(of: after.time), after.id]
        }
        let filter = (conditions.isEmpty ? "TRUE" : conditions.joined(separator: " AND ")) + " ORDER BY requested_at_ms, id LIMIT ?"
        arguments.append(query.limit)
        return try await read { [arguments] session in try await LinkRecords.requests(where: filter, arguments, session) }
    }
}

/// Reads and writes the rows of linking: `link_facts`, `portal_link` and `link_request`.
enum LinkRecords {
    static func facts(of subjectID: SubjectID, _ session: SQLSession) async throws -> LinkFacts? {
        try await session.row("SELECT facts FROM link_facts WHERE subject_id = ?", [subjectID.rawValue])
            .map { try JSONDecoder.shared.decode(LinkFacts.self, from: Data((try $0.value("facts", as: String.self)).utf8)) }
    }

    /// What an act in `scope` looks at.
    static func ledger(for scope: LinkScope, _ session: SQLSession) async throws -> LinkLedger {
        let subjectID: SubjectID
        var accountID: String?
        var requests: [LinkRequest] = []
        var challenge: CodeChallenge?
        switch scope {
        case let .submission(subject, account, challengeID):
            (subjectID, accountID) = (subject, account)
            if let challengeID { challenge = try await CodeRecord.fetch(challengeID, subjectID: subject, purpose: .accountLink, session) }
            requests = try await Self.requests(where: "subject_id = ? AND status = 'PENDING' ORDER BY requested_at_ms, id", [subject.rawValue], session)
        case let .request(id):
            guard let request = try await Self.requests(where: "id = ?", [id], session).first else {
                throw CredentialService.unknownLinkRequest(id)
            }
            (subjectID, accountID) = (request.subjectID, request.portalAccountID)
            requests = [request] + (try await Self.requests(
                where: "submission_id = ? AND id <> ? ORDER BY requested_at_ms, id", [request.submissionID, id], session
            ))
        case let .subject(subject):
            subjectID = subject
        }
        guard let subject = try await SubjectRecord.fetch(subjectID, session) else { throw CredentialError.notFound(subjectID) }
        let links = try await session.rows(
            "SELECT * FROM portal_link WHERE subject_id = ? OR portal_account_id = ?", [subjectID.rawValue, accountID]
        ).map(link)
        return LinkLedger(subject: subject, facts: try await facts(of: subjectID, session), links: links, requests: requests, challenge: challenge)
    }

    /// Writes what an act changed: links gone and new, requests new and changed, a challenge redeemed.
    static func save(_ ledger: LinkLedger, over previous: LinkLedger, _ session: SQLSession) async throws {
        for gone in previous.links where !ledger.links.contains(gone) {
            try await session.execute("DELETE FROM portal_link WHERE portal_account_id = ?", [gone.portalAccountID])
        }
        for new in ledger.links where !previous.links.contains(new) {
            try await session.execute(
                "INSERT INTO portal_link (portal_account_id, subject_id, linked_at_ms, method) VALUES (?, ?, ?, ?)",
                [new.portalAccountID, new.subjectID.rawValue, Timestamp.milliseconds(of: new.linkedAt), new.method.rawValue]
            )
        }
        let known = Dictionary(previous.requests.map { ($0.id, $0) }) { first, _ in first }
        for request in ledger.requests where known[request.id] != request {
            try await session.execute(
                """
                INSERT INTO link_request (id, submission_id, portal_account_id, subject_id, county, registrant_name, registrant_search,
                    status, origin, holds, requested_at_ms, decided_at_ms, decision)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, decided_at_ms = excluded.decided_at_ms, decision = excluded.decision
                """,
                [
                    request.id, request.submissionID, request.portalAccountID, request.subjectID.rawValue, request.county, request.registrantName,
                    LinkText.searchable(request.registrantName), request.status.rawValue, request.origin.rawValue,
                    request.holds.map(\.rawValue).joined(separator: ","), Timestamp.milliseconds(of: request.requestedAt),
                    request.decidedAt.map(Timestamp.milliseconds(of:)), request.decision,
                ]
            )
        }
        if let challenge = ledger.challenge, challenge != previous.challenge { try await CodeRecord.updateRedemption(challenge, session) }
    }

    static func requests(where condition: String, _ arguments: [any SQLArgument], _ session: SQLSession) async throws -> [LinkRequest] {
        try await session.rows("SELECT * FROM link_request WHERE \(condition)", arguments).map(request)
    }

    private static func request(_ row: PostgresRandomAccessRow) throws -> LinkRequest {
        let id: String = try row.value("id")
        let holds = (try row.value("holds", as: String.self)).split(separator: ",").map { LinkRequest.Hold(rawValue: String($0)) }
        guard let status = LinkRequest.Status(rawValue: try row.value("status")), let origin = LinkRequest.Origin(rawValue: try row.value("origin")),
              !holds.contains(nil) else {
            throw StoreCorruptionError(table: "link_request", id: id)
        }
        return LinkRequest(
            id: id, submissionID: try row.value("submission_id"), portalAccountID: try row.value("portal_account_id"),
            subjectID: try SubjectID(try row.value("subject_id")), county: try row.value("county"), registrantName: try row.value("registrant_name"),
            status: status, origin: origin, holds: holds.compactMap { $0 }, requestedAt: try row.date("requested_at_ms"),
            decidedAt: try row.optionalDate("decided_at_ms"), decision: try row.value("decision")
        )
    }

    static func link(_ row: PostgresRandomAccessRow) throws -> PortalLink {
        let accountID: String = try row.value("portal_account_id")
        guard let method = PortalLink.Method(rawValue: try row.value("method")) else { throw StoreCorruptionError(table: "portal_link", id: accountID) }
        return PortalLink(portalAccountID: accountID, subjectID: try SubjectID(try row.value("subject_id")), linkedAt: try row.date("linked_at_ms"), method: method)
    }
}
