//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCore
import VerityProtocol

/// `verity.v1.Links`: linking a portal account to a person, and the counties' queues.
struct LinksService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.setLinkFacts) { (request: SetLinkFactsRequest, call) in
            let id = try SubjectID(request.subjectId)
            let input = LinkFactsInput(
                registrantName: request.registrantName, dateOfBirth: request.dateOfBirth, zipCode: request.zipCode,
                customerPrivacyActive: request.customerPrivacyActive ?? false,
                cases: request.cases.map {
                    LinkFactsInput.Case(
                        county: $0.county, caseNumber: $0.caseNumber, primaryApplicant: $0.primaryApplicant,
                        permanentlyOutOfHome: $0.permanentlyOutOfHome ?? false, childrenServicesActive: $0.childrenServicesActive ?? false
                    )
                }
            )
            return { SetLinkFactsResponse(subjectId: id.rawValue, cases: try await service.setLinkFacts(id, input, context: call.context)) }
        }
        router.register(.submitLink) { (request: SubmitLinkRequest, call) in
            let id = try SubjectID(request.subjectId)
            try WireMapping.checkID(request.challengeId, field: "challengeId")
            let claim = LinkClaimInput(
                portalAccountID: request.portalAccountId, dateOfBirth: request.dateOfBirth, zipCode: request.zipCode, county: request.county,
                caseNumber: request.caseNumber
            )
            return {
                switch try await service.submitLink(id, claim, challenge: request.challengeId, context: call.context) {
                case let .link(link):
                    return SubmitLinkResponse(outcome: .linked, link: Self.message(for: link), submissionId: nil)
                case let .queue(requests):
                    return SubmitLinkResponse(outcome: .queued, link: nil, submissionId: requests.first?.submissionID)
                }
            }
        }
        router.register(.searchLinkRequests) { (request: SearchLinkRequestsRequest, call) in
            let query = try Self.query(request)
            return {
                let page = try await service.linkRequests(matching: query, context: call.context)
                return try Self.page(page.requests, next: page.next, maximumFrameBytes: call.maximumFrameBytes)
            }
        }
        router.register(.showLinkRequest) { (request: ShowLinkRequestRequest, call) in
            try WireMapping.checkID(request.linkRequestId, field: "linkRequestId")
            return {
                let details = try await service.linkRequestDetails(request.linkRequestId, context: call.context)
                return ShowLinkRequestResponse(
                    linkRequest: Self.message(for: details.request),
                    cases: (details.facts?.cases ?? []).map {
                        LinkCaseSummary(
                            county: $0.county, caseNumberEnding: $0.caseNumberHint, primaryApplicant: $0.primaryApplicant,
                            permanentlyOutOfHome: $0.permanentlyOutOfHome, childrenServicesActive: $0.childrenServicesActive
                        )
                    },
                    customerPrivacyActive: details.facts?.customerPrivacyActive ?? false, link: details.link.map(Self.message(for:)),
                    otherPendingRequests: details.otherPending.map(Self.message(for:))
                )
            }
        }
        router.register(.linkAccount) { (request: LinkAccountRequest, call) in
            try WireMapping.checkID(request.linkRequestId, field: "linkRequestId")
            return { LinkAccountResponse(linkRequests: try await service.processLinkRequest(request.linkRequestId, context: call.context).map(Self.message(for:))) }
        }
        router.register(.rejectLinkRequest) { (request: RejectLinkRequest, call) in
            try WireMapping.checkID(request.linkRequestId, field: "linkRequestId")
            _ = try CredentialService.auditedReason(request.reason, of: "rejecting a link request")
            return { Self.message(for: try await service.rejectLinkRequest(request.linkRequestId, reason: request.reason, context: call.context)) }
        }
        router.register(.unlinkAccount) { (request: UnlinkAccountRequest, call) in
            let id = try SubjectID(request.subjectId)
            _ = try CredentialService.auditedReason(request.reason, of: "unlinking an account")
            return { UnlinkAccountResponse(linkRequests: try await service.unlinkPortalAccount(id, reason: request.reason, context: call.context).map(Self.message(for:))) }
        }
    }

    static func message(for request: LinkRequest) -> LinkRequestMessage {
        LinkRequestMessage(
            linkRequestId: request.id, submissionId: request.submissionID, portalAccountId: request.portalAccountID, subjectId: request.subjectID.rawValue,
            county: request.county, registrantName: request.registrantName, status: .init(request.status), origin: .init(request.origin),
            holds: request.holds.map(LinkHoldName.init), requestedAt: Timestamp.string(from: request.requestedAt),
            decidedAt: request.decidedAt.map(Timestamp.string(from:)), decision: request.decision
        )
    }

    static func message(for link: PortalLink) -> PortalLinkMessage {
        PortalLinkMessage(
            portalAccountId: link.portalAccountID, subjectId: link.subjectID.rawValue, linkedAt: Timestamp.string(from: link.linkedAt), method: .init(link.method)
        )
    }

    private static func query(_ request: SearchLinkRequestsRequest) throws -> LinkRequestQuery {
        var query = LinkRequestQuery()
        if let statuses = request.statuses, !statuses.isEmpty {
            query.statuses = []
            for (index, status) in statuses.enumerated() {
                query.statuses.insert(try WireMapping.enumValue(LinkRequest.Status.self, status, field: "statuses[\(index)]"))
            }
        }
        if let name = request.registrantName?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            query.registrantName = try CredentialService.keptText(
                name, field: "registrantName", called: "registrantName", maximumLength: 200, whenMissing: "name part of the registrant's name"
            )
        }
        if let county = request.county?.trimmingCharacters(in: .whitespaces), !county.isEmpty { query.county = county }
        query.requestedFrom = try request.requestedFrom.map { try Self.time($0, field: "requestedFrom") }
        query.requestedTo = try request.requestedTo.map { try Self.time($0, field: "requestedTo") }
        query.limit = request.pageSize ?? 25
        guard (1...100).contains(query.limit) else { throw RPCError.invalidArgument(field: "pageSize", reason: "OUT_OF_RANGE", "pageSize is 1 to 100") }
        query.after = try request.pageToken.map(PageToken.cursor(from:))
        return query
    }

    private static func time(_ text: String, field: String) throws(RPCError) -> Date {
        guard let date = Timestamp.date(from: text) else {
            throw RPCError.invalidArgument(field: field, reason: "INVALID_VALUE", "\(field) is an RFC 3339 time, such as 2026-12-01T00:00:00Z")
        }
        return date
    }

    private static func page(_ requests: [LinkRequest], next: PageCursor?, maximumFrameBytes: Int) throws -> SearchLinkRequestsResponse {
        try WireMapping.fittingPage(requests, next: next, maximumFrameBytes: maximumFrameBytes, cursor: { PageCursor(time: $0.requestedAt, id: $0.id) }) { kept, next in
            SearchLinkRequestsResponse(linkRequests: kept.map(message(for:)), nextPageToken: next.map(PageToken.string(for:)))
        }
    }
}
