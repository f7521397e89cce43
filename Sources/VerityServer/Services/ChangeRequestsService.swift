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

/// `verity.v1.ChangeRequests`: changing security details by request (procedure 002).
struct ChangeRequestsService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.raiseChangeRequest) { (request: RaiseChangeRequestRequest, call) in
            let id = try SubjectID(request.subjectId)
            let source = try WireMapping.enumValue(DetailsChangeRequest.Source.self, request.source, field: "source")
            let reason = try WireMapping.enumValue(DetailsChangeRequest.Reason.self, request.reason, field: "reason")
            _ = try CredentialService.reporter(request.reportedBy)
            return {
                let raised = try await service.raiseChangeRequest(for: id, source: source, reason: reason, reportedBy: request.reportedBy, context: call.context)
                return Self.message(for: raised, at: service.currentTime)
            }
        }
        router.register(.getChangeRequest) { (request: GetChangeRequestRequest, _) in
            try WireMapping.checkID(request.changeRequestId, field: "changeRequestId")
            return { Self.message(for: try await service.changeRequest(request.changeRequestId), at: service.currentTime) }
        }
        router.register(.listChangeRequests) { (request: ListChangeRequestsRequest, call) in
            let query = try Self.query(request)
            return {
                let page = try await service.changeRequests(matching: query, overdueOnly: request.overdue ?? false)
                return try Self.page(page.requests, next: page.next, at: service.currentTime, maximumFrameBytes: call.maximumFrameBytes)
            }
        }
        router.register(.receiveChangeRequestForm) { (request: ReceiveFormRequest, call) in
            let subject = try Self.target(request.changeRequestId, request.subjectId)
            return {
                let received = try await service.receiveChangeRequestForm(request.changeRequestId, of: subject, context: call.context)
                return Self.message(for: received, at: service.currentTime)
            }
        }
        router.register(.acceptChangeRequest, hashes: true) { (request: AcceptChangeRequestRequest, call) in
            let subject = try Self.target(request.changeRequestId, request.subjectId)
            let details = SecurityFactors(pin: request.newPin, password: request.newPassword)
            try service.checkPolicies(details, fieldPrefix: "new")
            return {
                let accepted = try await service.acceptChangeRequest(
                    request.changeRequestId, of: subject, newDetails: details, confirmBySMS: request.confirmBySms ?? false, context: call.context
                )
                return AcceptChangeRequestResponse(changeRequest: Self.message(for: accepted.request, at: service.currentTime), state: .init(accepted.state))
            }
        }
        router.register(.declineChangeRequest) { (request: DeclineChangeRequestRequest, call) in
            let subject = try Self.target(request.changeRequestId, request.subjectId)
            _ = try CredentialService.auditedReason(request.reason, of: "declining a change request")
            return {
                let declined = try await service.declineChangeRequest(request.changeRequestId, of: subject, reason: request.reason, context: call.context)
                return Self.message(for: declined, at: service.currentTime)
            }
        }
        router.register(.closeChangeRequest) { (request: CloseChangeRequestRequest, call) in
            let subject = try Self.target(request.changeRequestId, request.subjectId)
            _ = try CredentialService.auditedReason(request.reason, of: "closing a change request")
            return {
                let closed = try await service.closeChangeRequest(request.changeRequestId, of: subject, reason: request.reason, context: call.context)
                return Self.message(for: closed, at: service.currentTime)
            }
        }
    }

    /// The request an act names, and the subject it must be for.
    private static func target(_ requestID: String, _ subjectID: String) throws -> SubjectID {
        try WireMapping.checkID(requestID, field: "changeRequestId")
        return try SubjectID(subjectID)
    }

    static func message(for request: DetailsChangeRequest, at now: Date) -> ChangeRequestMessage {
        func time(_ date: Date?) -> String? { date.map(Timestamp.string(from:)) }
        return ChangeRequestMessage(
            changeRequestId: request.id, subjectId: request.subjectID.rawValue, source: .init(request.source), reason: .init(request.reason),
            reportedBy: request.reportedBy, status: .init(request.status), dueAt: time(request.dueAt), overdue: request.isOverdue(at: now),
            createdAt: Timestamp.string(from: request.createdAt), updatedAt: Timestamp.string(from: request.updatedAt),
            formSentAt: time(request.formSentAt), reminderSentAt: time(request.reminderSentAt), formReceivedAt: time(request.formReceivedAt),
            closedAt: time(request.closedAt), resolutionReason: request.resolutionReason, confirmation: request.confirmation.map(ConfirmationName.init)
        )
    }

    private static func query(_ request: ListChangeRequestsRequest) throws -> ChangeRequestQuery {
        var query = ChangeRequestQuery()
        for (index, status) in (request.statuses ?? []).enumerated() {
            query.statuses.insert(try WireMapping.enumValue(DetailsChangeRequest.Status.self, status, field: "statuses[\(index)]"))
        }
        query.subjectID = try request.subjectId.map { raw throws(CredentialError) in try SubjectID(raw) }
        if let dueBefore = request.dueBefore {
            guard let date = Timestamp.date(from: dueBefore) else {
                throw RPCError.invalidArgument(field: "dueBefore", reason: "INVALID_VALUE", "dueBefore is an RFC 3339 time, such as 2026-12-01T00:00:00.000Z")
            }
            query.dueAtOrBefore = date
        }
        query.limit = request.pageSize ?? 25
        guard (1...100).contains(query.limit) else { throw RPCError.invalidArgument(field: "pageSize", reason: "OUT_OF_RANGE", "pageSize is 1 to 100") }
        query.after = try request.pageToken.map(PageToken.cursor(from:))
        return query
    }

    private static func page(_ requests: [DetailsChangeRequest], next: PageCursor?, at now: Date, maximumFrameBytes: Int) throws -> ListChangeRequestsResponse {
        try WireMapping.fittingPage(requests, next: next, maximumFrameBytes: maximumFrameBytes, cursor: { PageCursor(time: $0.createdAt, id: $0.id) }) { kept, next in
            ListChangeRequestsResponse(changeRequests: kept.map { message(for: $0, at: now) }, nextPageToken: next.map(PageToken.string(for:)))
        }
    }
}
