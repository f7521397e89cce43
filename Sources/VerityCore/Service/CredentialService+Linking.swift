//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

/// Linking a portal account to a person (procedure 003): automatic on a full match and a
/// verified code, otherwise a request in each county's queue that a caseworker links or rejects.
extension CredentialService {
    /// Puts on file the facts a link is decided on, replacing any before. The date of birth, the
    /// ZIP code and the case numbers are kept only as keyed MACs.
    ///
    /// - Returns: the number of cases on file.
    package func setLinkFacts(_ id: SubjectID, _ input: LinkFactsInput, context: CallContext) async throws -> Int {
        let keyID = keyring.currentKeyID
        let facts = try linkFacts(from: input, of: id, keyID: keyID)
        let audit = draft(.setLinkFacts, "OK", subject: id, context: context, facts: [
            "cases: \(facts.cases.count)", "counties receiving requests: \(facts.queueCounties.joined(separator: ", "))",
        ])
        try await store.setLinkFacts(facts, for: id, audit: audit, now: now())
        log("link facts set", subject: id, context: context)
        return facts.cases.count
    }

    /// The portal asks to link an account to the person, who proved who they are with a verified
    /// ACCOUNT_LINK code: linked now when every fact matches and no county policy holds it;
    /// otherwise queued in the counties. The code's grant is used up either way.
    ///
    /// The proof comes first: without it the portal learns nothing, not even whether the person
    /// is linked. The answer never says which fact was wrong: that is for the caseworker.
    package func submitLink(_ id: SubjectID, _ claim: LinkClaimInput, challenge challengeID: String, context: CallContext) async throws -> LinkDecision {
        let claim = try claim.canonical()
        let (time, window) = (now(), configuration.codeGrantWindow)
        let decision = try await store.modifyLinks(.submission(subject: id, portalAccountID: claim.portalAccountID, challengeID: challengeID)) { [self] ledger in
            guard var challenge = ledger.challenge else {
                throw CredentialError.missing(field: "challengeId", message: "no ACCOUNT_LINK challenge with this id for this subject")
            }
            try challenge.redeem(within: window, at: time)
            ledger.challenge = challenge
            let situation = LinkDecision.Situation(
                subjectID: id, facts: ledger.facts, contacts: ledger.subject.contacts,
                linkOfSubject: ledger.links.first { $0.subjectID == id }, linkOfAccount: ledger.links.first { $0.portalAccountID == claim.portalAccountID },
                pending: ledger.requests
            )
            let keyID = ledger.facts?.keyID ?? keyring.currentKeyID
            let macs = LinkClaim(
                portalAccountID: claim.portalAccountID, dateOfBirthMAC: try linkMAC("dob|\(claim.dateOfBirth)", of: id, keyID: keyID),
                zipCodeMAC: try linkMAC("zip|\(claim.zipCode)", of: id, keyID: keyID), county: claim.county,
                caseNumberMAC: try linkMAC("case|\(claim.county)|\(claim.caseNumber)", of: id, keyID: keyID)
            )
            let decision = try LinkDecision.decide(macs, in: situation, at: time, newID: Self.randomID)
            var facts = ["portal account \(claim.portalAccountID)", "grant: challenge \(challengeID)"]
            switch decision {
            case let .link(link):
                ledger.links.append(link)
            case let .queue(requests):
                ledger.requests += requests
                facts += ["holds: \(requests.first?.holds.map(\.rawValue).joined(separator: ", ") ?? "")", "queued in: \(requests.map(\.county).joined(separator: ", "))"]
            }
            let outcome = if case .link = decision { "LINKED" } else { "QUEUED" }
            return WorkflowWrite(decision, audit: [draft(.submitLink, outcome, subject: id, context: context, facts: facts)])
        }
        log("portal link submitted", subject: id, context: context)
        return decision
    }

    /// A link request, the facts of its person, the person's link, if any, and their other
    /// pending requests (from other accounts too: the caseworker sees who else asks). Audited: it
    /// shows a caseworker a person's cases and policy flags.
    package func linkRequestDetails(_ requestID: String, context: CallContext) async throws -> LinkRequestDetails {
        guard let request = try await store.linkRequest(requestID) else { throw Self.unknownLinkRequest(requestID) }
        var others = LinkRequestQuery()
        others.subjectID = request.subjectID
        others.limit = 100
        let pending = try await store.linkRequests(matching: others).filter { $0.submissionID != request.submissionID }
        try await store.append([draft(.showLinkRequest, "OK", subject: request.subjectID, context: context, facts: ["request \(request.id)"])])
        return LinkRequestDetails(
            request: request, facts: try await store.linkFacts(of: request.subjectID), link: try await store.portalLink(of: request.subjectID),
            otherPending: pending
        )
    }

    /// A link request that names none answers alike wherever it is looked up.
    package static func unknownLinkRequest(_ id: String) -> CredentialError {
        .missing(field: "linkRequestId", message: "no link request \(id)")
    }

    /// A page of the queue, oldest first, and where the next page starts; audited when a
    /// caseworker's call names the caseworker (`context`).
    package func linkRequests(matching query: LinkRequestQuery, context: CallContext? = nil) async throws -> (requests: [LinkRequest], next: PageCursor?) {
        guard (1...100).contains(query.limit) else {
            throw CredentialError.invalidArgument(field: "pageSize", reason: "OUT_OF_RANGE", message: "pageSize is 1 to 100")
        }
        var query = query
        query.county = try query.county.map { county throws(CredentialError) in try LinkText.county(county) }
        if let from = query.requestedFrom, let to = query.requestedTo, from > to {
            throw CredentialError.invalidArgument(field: "requestedTo", reason: "OUT_OF_RANGE", message: "requestedTo comes before requestedFrom")
        }
        let limit = query.limit
        query.limit += 1
        let found = try await store.linkRequests(matching: query)
        let page = Array(found.prefix(limit))
        if let context {
            let facts = ["results: \(page.count)"] + (query.county.map { ["county: \($0)"] } ?? [])
            try await store.append([draft(.searchLinkRequests, "OK", subject: nil, context: context, facts: facts)])
        }
        return (page, found.count > limit ? page.last.map { PageCursor(time: $0.requestedAt, id: $0.id) } : nil)
    }

    /// A caseworker links the account of a request: the request, and every pending request of the
    /// same submission in other counties, become PROCESSED.
    package func processLinkRequest(_ requestID: String, context: CallContext) async throws -> [LinkRequest] {
        let time = now()
        return try await store.modifyLinks(.request(id: requestID)) { [self] ledger in
            let request = ledger.requests[0]
            guard request.status == .pending else {
                throw CredentialError.failedPrecondition(reason: "REQUEST_CLOSED", message: "processing needs a PENDING link request; this one is \(request.status.rawValue)")
            }
            let facts = try LinkDecision.checkLinkable(
                request.subjectID, account: request.portalAccountID, facts: ledger.facts,
                linkOfSubject: ledger.links.first { $0.subjectID == request.subjectID }, linkOfAccount: ledger.links.first { $0.portalAccountID == request.portalAccountID }
            )
            guard facts.queueCounties.contains(request.county) else {
                throw CredentialError.failedPrecondition(reason: "NOT_PRIMARY_APPLICANT", message: "the person is no longer the primary applicant on a case in \(request.county)")
            }
            ledger.links.append(PortalLink(portalAccountID: request.portalAccountID, subjectID: request.subjectID, linkedAt: time, method: .manual))
            let pending = ledger.requests.indices.filter { ledger.requests[$0].status == .pending }
            for index in pending {
                let decision = index == 0 ? "linked" : "linked with request \(request.id) in \(request.county)"
                try ledger.requests[index].process(at: time, decision: decision)
            }
            let processed = pending.map { ledger.requests[$0] }
            let audit = draft(.linkAccount, "PROCESSED", subject: request.subjectID, context: context, facts: [
                "request \(request.id)", "portal account \(request.portalAccountID)", "requests processed: \(processed.count)",
            ])
            return WorkflowWrite(processed, audit: [audit])
        }
    }

    /// A caseworker rejects a request, with a reason; the submission's requests in other
    /// counties stay pending.
    package func rejectLinkRequest(_ requestID: String, reason: String, context: CallContext) async throws -> LinkRequest {
        let reason = try Self.auditedReason(reason, of: "rejecting a link request")
        let time = now()
        return try await store.modifyLinks(.request(id: requestID)) { [self] ledger in
            try ledger.requests[0].reject(reason: reason, at: time)
            let request = ledger.requests[0]
            let audit = draft(.rejectLink, "REJECTED", subject: request.subjectID, context: context, facts: ["request \(request.id)", "reason: \(reason)"])
            return WorkflowWrite(request, audit: [audit])
        }
    }

    /// Unlinks the person's portal account (every case of theirs with it), and queues a new
    /// PENDING request in each county where they are the primary applicant.
    package func unlinkPortalAccount(_ id: SubjectID, reason: String, context: CallContext) async throws -> [LinkRequest] {
        let reason = try Self.auditedReason(reason, of: "unlinking an account")
        let time = now()
        return try await store.modifyLinks(.subject(id)) { [self] ledger in
            guard let link = ledger.links.first(where: { $0.subjectID == id }) else {
                throw CredentialError.failedPrecondition(reason: "NOT_LINKED", message: "the person is not linked to a portal account")
            }
            ledger.links.removeAll { $0 == link }
            let requests = ledger.facts.map {
                LinkDecision.requests(for: id, account: link.portalAccountID, facts: $0, origin: .unlink, holds: [.unlinked] + $0.policyHolds, at: time, newID: Self.randomID)
            } ?? []
            ledger.requests += requests
            let audit = draft(.unlinkAccount, "OK", subject: id, context: context, facts: [
                "portal account \(link.portalAccountID)", "reason: \(reason)", "queued in: \(requests.map(\.county).joined(separator: ", "))",
            ])
            return WorkflowWrite(requests, audit: [audit])
        }
    }

    private func linkFacts(from input: LinkFactsInput, of subject: SubjectID, keyID: String) throws -> LinkFacts {
        guard (1...LinkText.maximumCases).contains(input.cases.count) else {
            throw CredentialError.invalidArgument(field: "cases", reason: "INVALID_VALUE", message: "give 1 to \(LinkText.maximumCases) cases")
        }
        let name = try Self.keptText(
            input.registrantName, field: "registrantName", called: "registrantName", maximumLength: 200, whenMissing: "name the person as the queue should show them"
        )
        var cases: [LinkCase] = []
        var seen = Set<String>()
        for (index, given) in input.cases.enumerated() {
            let county = try LinkText.county(given.county, field: "cases[\(index)].county")
            let number = try LinkText.caseNumber(given.caseNumber, field: "cases[\(index)].caseNumber")
            guard seen.insert("\(county)|\(number)").inserted else {
                throw CredentialError.invalidArgument(field: "cases[\(index)]", reason: "INVALID_VALUE", message: "the same county and case number are given twice")
            }
            cases.append(LinkCase(
                county: county, caseNumberMAC: try linkMAC("case|\(county)|\(number)", of: subject, keyID: keyID), caseNumberHint: String(number.suffix(3)),
                primaryApplicant: given.primaryApplicant, permanentlyOutOfHome: given.permanentlyOutOfHome, childrenServicesActive: given.childrenServicesActive
            ))
        }
        return LinkFacts(
            registrantName: name, dateOfBirthMAC: try linkMAC("dob|\(try LinkText.dateOfBirth(input.dateOfBirth))", of: subject, keyID: keyID),
            zipCodeMAC: try linkMAC("zip|\(try LinkText.zipCode(input.zipCode))", of: subject, keyID: keyID), customerPrivacyActive: input.customerPrivacyActive,
            cases: cases, keyID: keyID
        )
    }

    /// HMAC-SHA256 (hex) of a canonical fact of `subject`, under the link-facts key of `keyID`:
    /// bound to the person, so that two people's equal facts do not show as equal MACs.
    private func linkMAC(_ canonical: String, of subject: SubjectID, keyID: String) throws -> String {
        try keyedMAC("\(subject)|\(canonical)", use: .linkFacts, keyID: keyID)
    }
}

/// What a caseworker sees of a request: the person's facts as far as they are kept, their link,
/// and their other pending requests.
package struct LinkRequestDetails: Sendable {
    package var request: LinkRequest
    package var facts: LinkFacts?
    package var link: PortalLink?
    package var otherPending: [LinkRequest]
}

/// The facts for linking as the case system gives them, in clear.
package struct LinkFactsInput: Sendable {
    package var registrantName: String
    package var dateOfBirth: String
    package var zipCode: String
    package var customerPrivacyActive: Bool
    package var cases: [Case]

    package struct Case: Sendable {
        package var county: String
        package var caseNumber: String
        package var primaryApplicant: Bool
        package var permanentlyOutOfHome: Bool
        package var childrenServicesActive: Bool

        package init(county: String, caseNumber: String, primaryApplicant: Bool, permanentlyOutOfHome: Bool = false, childrenServicesActive: Bool = false) {
            self.county = county
            self.caseNumber = caseNumber
            self.primaryApplicant = primaryApplicant
            self.permanentlyOutOfHome = permanentlyOutOfHome
            self.childrenServicesActive = childrenServicesActive
        }
    }

    package init(registrantName: String, dateOfBirth: String, zipCode: String, customerPrivacyActive: Bool = false, cases: [Case]) {
        self.registrantName = registrantName
        self.dateOfBirth = dateOfBirth
        self.zipCode = zipCode
        self.customerPrivacyActive = customerPrivacyActive
        self.cases = cases
    }
}

/// What the person typed on the portal to link their account, in clear.
package struct LinkClaimInput: Sendable {
    package var portalAccountID: String
    package var dateOfBirth: String
    package var zipCode: String
    package var county: String
    package var caseNumber: String

    package init(portalAccountID: String, dateOfBirth: String, zipCode: String, county: String, caseNumber: String) {
        self.portalAccountID = portalAccountID
        self.dateOfBirth = dateOfBirth
        self.zipCode = zipCode
        self.county = county
        self.caseNumber = caseNumber
    }

    /// Every value in the form it is compared in, or INVALID_ARGUMENT naming the first bad one.
    func canonical() throws(CredentialError) -> LinkClaimInput {
        LinkClaimInput(
            portalAccountID: try LinkText.portalAccountID(portalAccountID), dateOfBirth: try LinkText.dateOfBirth(dateOfBirth),
            zipCode: try LinkText.zipCode(zipCode), county: try LinkText.county(county), caseNumber: try LinkText.caseNumber(caseNumber)
        )
    }
}

/// The canonical forms the link facts are compared in.
package enum LinkText {
    static let maximumCases = 20

    /// A GUID, `8-4-4-4-12` hexadecimal digits, in lower case.
    package static func portalAccountID(_ text: String) throws(CredentialError) -> String {
        let lower = text.lowercased()
        let groups = lower.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], lower.utf8.allSatisfy({ $0 == 45 || (48...57).contains($0) || (97...102).contains($0) }) else {
            throw .invalidArgument(field: "portalAccountId", reason: "INVALID_VALUE", message: "portalAccountId is a GUID, such as 0f8fad5b-d9cb-469f-a165-70867728950e")
        }
        return lower
    }

    /// `YYYY-MM-DD`, from the formats of a date of birth in `recovery.md`.
    static func dateOfBirth(_ text: String, field: String = "dateOfBirth") throws(CredentialError) -> String {
        guard let date = FactText.isoDate(text) else {
            throw .invalidArgument(field: field, reason: "INVALID_VALUE", message: "a date of birth is YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD, and a real date")
        }
        return date
    }

    /// The five digits of a ZIP code, from `12345`, `12345-6789` or `123456789`.
    static func zipCode(_ text: String, field: String = "zipCode") throws(CredentialError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        let digits = parts.joined()
        let shaped = parts.count == 1 ? [5, 9].contains(parts[0].count) : parts.map(\.count) == [5, 4]
        guard shaped, digits.allSatisfy(\.isASCIIDigit) else {
            throw .invalidArgument(field: field, reason: "INVALID_VALUE", message: "a ZIP code is 5 digits, or 5 and 4 (ZIP+4)")
        }
        return String(digits.prefix(5))
    }

    /// A county's name in capitals, words separated by one space (`Los  angeles` is `LOS ANGELES`).
    static func county(_ text: String, field: String = "county") throws(CredentialError) -> String {
        let county = FactText.words(text).uppercased()
        guard (1...64).contains(county.count) else {
            throw .invalidArgument(field: field, reason: "INVALID_VALUE", message: "a county is a name of 1 to 64 letters, digits and spaces")
        }
        return county
    }

    /// A name as a search compares it: folded (case, accents, compatibility forms), words of
    /// letters and digits separated by one space, so that `núñez` finds `NUÑEZ-Ortiz`.
    package static func searchable(_ name: String) -> String {
        FactText.words(name)
    }

    /// A case number's letters and digits, in capitals.
    static func caseNumber(_ text: String, field: String = "caseNumber") throws(CredentialError) -> String {
        let number = FactText.alphanumerics(text).uppercased()
        guard (4...20).contains(number.count), number.allSatisfy({ $0.isASCII }) else {
            throw .invalidArgument(field: field, reason: "INVALID_VALUE", message: "a case number is 4 to 20 letters and digits")
        }
        return number
    }
}
