//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.ChangeRequests: changing a person's security details by request (procedure 002),
// with its letters, waits and reminder (proto-spec/change-requests.md).

/// `ChangeRequests/Raise` request.
public struct RaiseChangeRequestRequest: Codable, Equatable, Sendable {
    /// Required: the subject whose details are to change.
    public var subjectId: String
    /// Required: how the change was reported: `PHONE`, `LETTER` or `SELF_SERVICE`.
    public var source: ChangeRequestSourceName
    /// Required: why: `BLOCKED_AFTER_FAILED_CHECKS` or `CLIENT_REQUEST`.
    public var reason: ChangeRequestReasonName
    /// The person who reported the change: their name and role on the case.
    public var reportedBy: String

    /// Creates a request; see the properties.
    public init(subjectId: String, source: ChangeRequestSourceName, reason: ChangeRequestReasonName, reportedBy: String) {
        self.subjectId = subjectId
        self.source = source
        self.reason = reason
        self.reportedBy = reportedBy
    }
}

/// A change request, as every ChangeRequests method answers it. Times are RFC 3339 UTC with
/// milliseconds.
public struct ChangeRequestMessage: Codable, Equatable, Sendable {
    /// 32 lower-case hexadecimal digits.
    public var changeRequestId: String
    /// The subject whose details are to change.
    public var subjectId: String
    /// How the change was reported.
    public var source: ChangeRequestSourceName
    /// Why the details are to change.
    public var reason: ChangeRequestReasonName
    /// As given to `Raise`, trimmed.
    public var reportedBy: String
    /// `OPEN`, `IN_PROGRESS` and `WAITING` are active; the others are final and never change.
    public var status: ChangeRequestStatusName
    /// When the next step is due; absent once the request has ended.
    public var dueAt: String?
    /// Whether `dueAt` has passed while the request still waits for someone.
    public var overdue: Bool
    /// When it was raised.
    public var createdAt: String
    /// When it last changed.
    public var updatedAt: String
    /// When letter CMSL9800, the form, went out.
    public var formSentAt: String?
    /// When letter CMSL9801, the reminder, went out.
    public var reminderSentAt: String?
    /// When a caseworker recorded the form's return (`ReceiveForm`).
    public var formReceivedAt: String?
    /// When it ended (`ACCEPTED`, `DECLINED` or `CLOSED`).
    public var closedAt: String?
    /// Why it was declined or closed.
    public var resolutionReason: String?
    /// How an accepted change was confirmed.
    public var confirmation: ConfirmationName?

    /// Creates a change request; see the properties.
    public init(
        changeRequestId: String, subjectId: String, source: ChangeRequestSourceName, reason: ChangeRequestReasonName, reportedBy: String,
        status: ChangeRequestStatusName, dueAt: String?, overdue: Bool, createdAt: String, updatedAt: String, formSentAt: String?,
        reminderSentAt: String?, formReceivedAt: String?, closedAt: String?, resolutionReason: String?, confirmation: ConfirmationName?
    ) {
        self.changeRequestId = changeRequestId
        self.subjectId = subjectId
        self.source = source
        self.reason = reason
        self.reportedBy = reportedBy
        self.status = status
        self.dueAt = dueAt
        self.overdue = overdue
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.formSentAt = formSentAt
        self.reminderSentAt = reminderSentAt
        self.formReceivedAt = formReceivedAt
        self.closedAt = closedAt
        self.resolutionReason = resolutionReason
        self.confirmation = confirmation
    }
}

/// `ChangeRequests/Raise` response.
public typealias RaiseChangeRequestResponse = ChangeRequestMessage

/// `ChangeRequests/Get` request.
public struct GetChangeRequestRequest: Codable, Equatable, Sendable {
    /// Required: 32 lower-case hexadecimal digits.
    public var changeRequestId: String

    /// Creates a request; see the properties.
    public init(changeRequestId: String) {
        self.changeRequestId = changeRequestId
    }
}

/// `ChangeRequests/ReceiveForm` request: the request, and the subject it must be for.
public struct ReceiveFormRequest: Codable, Equatable, Sendable {
    /// Required: the id `Raise` answered, 32 lower-case hexadecimal digits.
    public var changeRequestId: String
    /// Required: the subject the request is for; a request of another subject is NOT_FOUND.
    public var subjectId: String

    /// Creates a request; see the properties.
    public init(changeRequestId: String, subjectId: String) {
        self.changeRequestId = changeRequestId
        self.subjectId = subjectId
    }
}

/// `ChangeRequests/Accept` request: the new details, one or both.
public struct AcceptChangeRequestRequest: Codable, Equatable, Sendable {
    /// Required: the request to accept, `OPEN` or `IN_PROGRESS`.
    public var changeRequestId: String
    /// Required: the subject the request is for, as in ``ReceiveFormRequest``.
    public var subjectId: String
    /// The new PIN, under the rules of `SetSecurityDetails`. At least one of `newPin` and
    /// `newPassword` is required; a factor not given stays as it is.
    public var newPin: String?
    /// The new password, under the rules of `SetSecurityDetails`.
    public var newPassword: String?
    /// The person agreed to a text: confirm by SMS to a phone that takes texts, when one is on
    /// file; otherwise by letter CMSL9802.
    public var confirmBySms: Bool?

    /// Creates a request; see the properties.
    public init(changeRequestId: String, subjectId: String, newPin: String? = nil, newPassword: String? = nil, confirmBySms: Bool? = nil) {
        self.changeRequestId = changeRequestId
        self.subjectId = subjectId
        self.newPin = newPin
        self.newPassword = newPassword
        self.confirmBySms = confirmBySms
    }
}

/// `ChangeRequests/Accept` response.
public struct AcceptChangeRequestResponse: Codable, Equatable, Sendable {
    /// The request, now `ACCEPTED`, with its confirmation.
    public var changeRequest: ChangeRequestMessage
    /// The subject's state now: `ACTIVE`.
    public var state: SubjectStateName

    /// Creates a response; see the properties.
    public init(changeRequest: ChangeRequestMessage, state: SubjectStateName) {
        self.changeRequest = changeRequest
        self.state = state
    }
}

/// `ChangeRequests/Decline` and `ChangeRequests/Close` request.
public struct EndChangeRequestRequest: Codable, Equatable, Sendable {
    /// Required: the request to end, `OPEN`, `IN_PROGRESS` or `WAITING`.
    public var changeRequestId: String
    /// Required: the subject the request is for, as in ``ReceiveFormRequest``.
    public var subjectId: String
    /// Why, for the audit trail and the request.
    public var reason: String

    /// Creates a request; see the properties.
    public init(changeRequestId: String, subjectId: String, reason: String) {
        self.changeRequestId = changeRequestId
        self.subjectId = subjectId
        self.reason = reason
    }
}

/// `ChangeRequests/Decline` request.
public typealias DeclineChangeRequestRequest = EndChangeRequestRequest
/// `ChangeRequests/Close` request.
public typealias CloseChangeRequestRequest = EndChangeRequestRequest

/// `ChangeRequests/List` request: every filter given must hold.
public struct ListChangeRequestsRequest: Codable, Equatable, Sendable {
    /// Any of these statuses; every status when absent or empty.
    public var statuses: [ChangeRequestStatusName]?
    /// Only this subject's requests; an id that names no subject gives an empty list.
    public var subjectId: String?
    /// Only requests due at or before this time (RFC 3339).
    public var dueBefore: String?
    /// Only requests past their due time that still wait for someone.
    public var overdue: Bool?
    /// 1 to 100; 25 when absent.
    public var pageSize: Int?
    /// `nextPageToken` of the previous page.
    public var pageToken: String?

    /// Creates a request; see the properties.
    public init(
        statuses: [ChangeRequestStatusName]? = nil, subjectId: String? = nil, dueBefore: String? = nil, overdue: Bool? = nil,
        pageSize: Int? = nil, pageToken: String? = nil
    ) {
        self.statuses = statuses
        self.subjectId = subjectId
        self.dueBefore = dueBefore
        self.overdue = overdue
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

/// `ChangeRequests/List` response, oldest first.
public struct ListChangeRequestsResponse: Codable, Equatable, Sendable {
    /// Oldest first, by `createdAt` then id; fewer than `pageSize` at the end, or when more would
    /// not fit in one frame.
    public var changeRequests: [ChangeRequestMessage]
    /// Present when more requests match: pass it as `pageToken`.
    public var nextPageToken: String?

    /// Creates a response; see the properties.
    public init(changeRequests: [ChangeRequestMessage], nextPageToken: String?) {
        self.changeRequests = changeRequests
        self.nextPageToken = nextPageToken
    }
}

/// `Development/AdvanceClock` request (development mode only).
public struct AdvanceClockRequest: Codable, Equatable, Sendable {
    /// 1 to 31,536,000 (a year).
    public var seconds: Int

    /// Creates a request; see the properties.
    public init(seconds: Int) {
        self.seconds = seconds
    }
}

/// `Development/AdvanceClock` response.
public struct AdvanceClockResponse: Codable, Equatable, Sendable {
    /// The server's time now.
    public var now: String
    /// The timed steps that fell due and were taken.
    public var stepsTaken: Int

    /// Creates a response; see the properties.
    public init(now: String, stepsTaken: Int) {
        self.now = now
        self.stepsTaken = stepsTaken
    }
}
