//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// verity.v1.Links: linking a portal account to a person (procedure 003; proto-spec/links.md).

/// One case of the person, as the case system puts it on file.
public struct LinkCaseMessage: Codable, Equatable, Sendable {
    /// Required: the county's name in any case and spacing; compared in capitals with single
    /// spaces, 1 to 64 characters.
    public var county: String
    /// 4 to 20 letters and digits (punctuation and spaces are ignored).
    public var caseNumber: String
    /// Required: whether the person is the primary applicant on a program of the case.
    public var primaryApplicant: Bool
    /// Whether the person is marked permanently out of the home; false when absent.
    public var permanentlyOutOfHome: Bool?
    /// An active Children Services program on the case.
    public var childrenServicesActive: Bool?

    /// Creates a case; see the properties.
    public init(county: String, caseNumber: String, primaryApplicant: Bool, permanentlyOutOfHome: Bool? = nil, childrenServicesActive: Bool? = nil) {
        self.county = county
        self.caseNumber = caseNumber
        self.primaryApplicant = primaryApplicant
        self.permanentlyOutOfHome = permanentlyOutOfHome
        self.childrenServicesActive = childrenServicesActive
    }
}

/// `Links/SetFacts` request: the facts a link is decided on, replacing those on file.
public struct SetLinkFactsRequest: Codable, Equatable, Sendable {
    /// Required: the person the facts are about.
    public var subjectId: String
    /// The name caseworkers see in the queue.
    public var registrantName: String
    /// `YYYY-MM-DD`, `MM/DD/YYYY` or `YYYYMMDD`.
    public var dateOfBirth: String
    /// `12345`, `12345-6789` or `123456789`.
    public var zipCode: String
    /// An active customer privacy record.
    public var customerPrivacyActive: Bool?
    /// Required: 1 to 20 cases, no county and case number twice.
    public var cases: [LinkCaseMessage]

    /// Creates a request; see the properties.
    public init(
        subjectId: String, registrantName: String, dateOfBirth: String, zipCode: String, customerPrivacyActive: Bool? = nil, cases: [LinkCaseMessage]
    ) {
        self.subjectId = subjectId
        self.registrantName = registrantName
        self.dateOfBirth = dateOfBirth
        self.zipCode = zipCode
        self.customerPrivacyActive = customerPrivacyActive
        self.cases = cases
    }
}

/// `Links/SetFacts` response.
public struct SetLinkFactsResponse: Codable, Equatable, Sendable {
    /// The person the facts are about.
    public var subjectId: String
    /// The number of cases now on file.
    public var cases: Int

    /// Creates a response; see the properties.
    public init(subjectId: String, cases: Int) {
        self.subjectId = subjectId
        self.cases = cases
    }
}

/// `Links/Submit` request: what the person typed on the portal, and the code that proved them.
public struct SubmitLinkRequest: Codable, Equatable, Sendable {
    /// The person the portal account is to be linked to.
    public var subjectId: String
    /// The portal's GUID of the account.
    public var portalAccountId: String
    /// As typed: `YYYY-MM-DD`, `MM/DD/YYYY` or `YYYYMMDD`.
    public var dateOfBirth: String
    /// As typed: `12345`, `12345-6789` or `123456789`.
    public var zipCode: String
    /// As typed; compared in capitals, words separated by one space.
    public var county: String
    /// As typed; compared on its letters and digits.
    public var caseNumber: String
    /// The challenge of an ACCOUNT_LINK code of this person, verified with `Mfa/VerifyCode`
    /// within the last 10 minutes and not used before: the proof every submission needs.
    public var challengeId: String

    /// Creates a request; see the properties.
    public init(
        subjectId: String, portalAccountId: String, dateOfBirth: String, zipCode: String, county: String, caseNumber: String, challengeId: String
    ) {
        self.subjectId = subjectId
        self.portalAccountId = portalAccountId
        self.dateOfBirth = dateOfBirth
        self.zipCode = zipCode
        self.county = county
        self.caseNumber = caseNumber
        self.challengeId = challengeId
    }
}

/// A request in a county's queue.
public struct LinkRequestMessage: Codable, Equatable, Sendable {
    /// 32 lower-case hexadecimal digits.
    public var linkRequestId: String
    /// Requests made together for the same person share it: processing one processes them all.
    public var submissionId: String
    /// The account to link: a GUID, lower case.
    public var portalAccountId: String
    /// The person the account is to be linked to.
    public var subjectId: String
    /// This queue's county, in canonical form (`LOS ANGELES`).
    public var county: String
    /// The registrant's name on file when the request was queued.
    public var registrantName: String
    /// `PENDING`, `PROCESSED` or `REJECTED`; only `PENDING` changes, and only once.
    public var status: LinkRequestStatusName
    /// `PORTAL` or `UNLINK`: how the request came to be queued.
    public var origin: LinkRequestOriginName
    /// Why it was not linked automatically.
    public var holds: [LinkHoldName]
    /// When it was queued (RFC 3339 UTC with milliseconds).
    public var requestedAt: String
    /// When it was processed or rejected (RFC 3339 UTC with milliseconds); absent while `PENDING`.
    public var decidedAt: String?
    /// The reason of a rejection, or what a processing did.
    public var decision: String?

    /// Creates a link request; see the properties.
    public init(
        linkRequestId: String, submissionId: String, portalAccountId: String, subjectId: String, county: String, registrantName: String,
        status: LinkRequestStatusName, origin: LinkRequestOriginName, holds: [LinkHoldName], requestedAt: String, decidedAt: String?, decision: String?
    ) {
        self.linkRequestId = linkRequestId
        self.submissionId = submissionId
        self.portalAccountId = portalAccountId
        self.subjectId = subjectId
        self.county = county
        self.registrantName = registrantName
        self.status = status
        self.origin = origin
        self.holds = holds
        self.requestedAt = requestedAt
        self.decidedAt = decidedAt
        self.decision = decision
    }
}

/// A portal account linked to a person.
public struct PortalLinkMessage: Codable, Equatable, Sendable {
    /// The account: a GUID, lower case.
    public var portalAccountId: String
    /// The person it is linked to.
    public var subjectId: String
    /// When it was linked (RFC 3339 UTC with milliseconds).
    public var linkedAt: String
    /// `AUTOMATIC` (by `Links/Submit`) or `MANUAL` (by `Links/Link`).
    public var method: LinkMethodName

    /// Creates a link; see the properties.
    public init(portalAccountId: String, subjectId: String, linkedAt: String, method: LinkMethodName) {
        self.portalAccountId = portalAccountId
        self.subjectId = subjectId
        self.linkedAt = linkedAt
        self.method = method
    }
}

/// `Links/Submit` response: linked now, or queued. Never which fact was wrong, nor the person's
/// name, counties or policy flags: those are for the caseworker.
public struct SubmitLinkResponse: Codable, Equatable, Sendable {
    /// `LINKED` or `QUEUED`.
    public var outcome: LinkOutcomeName
    /// When `LINKED`.
    public var link: PortalLinkMessage?
    /// When `QUEUED`: the submission the counties' requests share, for the portal to quote.
    public var submissionId: String?

    /// Creates a response; see the properties.
    public init(outcome: LinkOutcomeName, link: PortalLinkMessage?, submissionId: String?) {
        self.outcome = outcome
        self.link = link
        self.submissionId = submissionId
    }
}

/// `Links/Search` request: every filter given must hold.
public struct SearchLinkRequestsRequest: Codable, Equatable, Sendable {
    /// Any of these; `[PENDING]` when absent.
    public var statuses: [LinkRequestStatusName]?
    /// Part of the registrant's name, compared without case.
    public var registrantName: String?
    /// Only this county's queue, its name folded as a case's county is; blank: no filter.
    public var county: String?
    /// Requested at or after (RFC 3339).
    public var requestedFrom: String?
    /// Requested at or before (RFC 3339).
    public var requestedTo: String?
    /// 1 to 100; 25 when absent.
    public var pageSize: Int?
    /// The `nextPageToken` of the previous page, unchanged, with the same filters; from the start
    /// when absent.
    public var pageToken: String?

    /// Creates a request; see the properties.
    public init(
        statuses: [LinkRequestStatusName]? = nil, registrantName: String? = nil, county: String? = nil, requestedFrom: String? = nil,
        requestedTo: String? = nil, pageSize: Int? = nil, pageToken: String? = nil
    ) {
        self.statuses = statuses
        self.registrantName = registrantName
        self.county = county
        self.requestedFrom = requestedFrom
        self.requestedTo = requestedTo
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

/// `Links/Search` response, oldest first.
public struct SearchLinkRequestsResponse: Codable, Equatable, Sendable {
    /// Oldest first, by `requestedAt` then id; fewer than `pageSize` at the end, or when more
    /// would not fit in one frame.
    public var linkRequests: [LinkRequestMessage]
    /// Present when more requests may match: pass it as `pageToken`. Opaque; it does not expire.
    public var nextPageToken: String?

    /// Creates a response; see the properties.
    public init(linkRequests: [LinkRequestMessage], nextPageToken: String?) {
        self.linkRequests = linkRequests
        self.nextPageToken = nextPageToken
    }
}

/// A request named by its id: `Links/Show` and `Links/Link`.
public struct LinkRequestReference: Codable, Equatable, Sendable {
    /// Required: 32 lower-case hexadecimal digits.
    public var linkRequestId: String

    /// Creates a request; see the properties.
    public init(linkRequestId: String) {
        self.linkRequestId = linkRequestId
    }
}

/// `Links/Show` request.
public typealias ShowLinkRequestRequest = LinkRequestReference
/// `Links/Link` request.
public typealias LinkAccountRequest = LinkRequestReference

/// One case of the person as a caseworker sees it: never the full case number.
public struct LinkCaseSummary: Codable, Equatable, Sendable {
    /// In canonical form, such as `LOS ANGELES`.
    public var county: String
    /// The last three characters of the case number.
    public var caseNumberEnding: String
    /// Whether the person is the primary applicant on a program of the case.
    public var primaryApplicant: Bool
    /// Whether the person is marked permanently out of the home.
    public var permanentlyOutOfHome: Bool
    /// Whether the case has an active Children Services program (a county policy hold).
    public var childrenServicesActive: Bool

    /// Creates a summary; see the properties.
    public init(county: String, caseNumberEnding: String, primaryApplicant: Bool, permanentlyOutOfHome: Bool, childrenServicesActive: Bool) {
        self.county = county
        self.caseNumberEnding = caseNumberEnding
        self.primaryApplicant = primaryApplicant
        self.permanentlyOutOfHome = permanentlyOutOfHome
        self.childrenServicesActive = childrenServicesActive
    }
}

/// `Links/Show` response: the request, the person's cases, and their link.
public struct ShowLinkRequestResponse: Codable, Equatable, Sendable {
    /// The request asked for.
    public var linkRequest: LinkRequestMessage
    /// The person's cases as on file now, in the order the case system gave them.
    public var cases: [LinkCaseSummary]
    /// Whether the person has an active customer privacy record, as on file now.
    public var customerPrivacyActive: Bool
    /// The person's current link, if any.
    public var link: PortalLinkMessage?
    /// The person's other pending requests (other submissions, other accounts), oldest first.
    public var otherPendingRequests: [LinkRequestMessage]

    /// Creates a response; see the properties.
    public init(
        linkRequest: LinkRequestMessage, cases: [LinkCaseSummary], customerPrivacyActive: Bool, link: PortalLinkMessage?,
        otherPendingRequests: [LinkRequestMessage]
    ) {
        self.linkRequest = linkRequest
        self.cases = cases
        self.customerPrivacyActive = customerPrivacyActive
        self.link = link
        self.otherPendingRequests = otherPendingRequests
    }
}

/// `Links/Link` and `Links/Unlink` response: the requests the act processed or queued.
public struct LinkRequestsResponse: Codable, Equatable, Sendable {
    /// `Link`: the requests processed, the one named first. `Unlink`: the requests queued,
    /// possibly none.
    public var linkRequests: [LinkRequestMessage]

    /// Creates a response; see the properties.
    public init(linkRequests: [LinkRequestMessage]) {
        self.linkRequests = linkRequests
    }
}

/// `Links/Link` response.
public typealias LinkAccountResponse = LinkRequestsResponse
/// `Links/Unlink` response.
public typealias UnlinkAccountResponse = LinkRequestsResponse

/// `Links/Reject` request.
public struct RejectLinkRequest: Codable, Equatable, Sendable {
    /// Required: the `PENDING` request to reject, 32 lower-case hexadecimal digits.
    public var linkRequestId: String
    /// Why, for the audit trail and the request.
    public var reason: String

    /// Creates a request; see the properties.
    public init(linkRequestId: String, reason: String) {
        self.linkRequestId = linkRequestId
        self.reason = reason
    }
}

/// `Links/Reject` response.
public typealias RejectLinkResponse = LinkRequestMessage

/// `Links/Unlink` request.
public struct UnlinkAccountRequest: Codable, Equatable, Sendable {
    /// Required: the person whose account is unlinked.
    public var subjectId: String
    /// Why, for the audit trail.
    public var reason: String

    /// Creates a request; see the properties.
    public init(subjectId: String, reason: String) {
        self.subjectId = subjectId
        self.reason = reason
    }
}
