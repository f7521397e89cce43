//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityProtocol

/// A typed method for every v1 method. Each takes an optional `timeout` (the call's deadline)
/// and `actor` (the person on whose behalf the call is made; it goes into the audit trail).
extension VerityClient {
    private func metadata(_ actor: String?) -> [String: String] {
        (actor ?? configuration.defaultActor).map { ["actor": $0] } ?? [:]
    }

    // MARK: verity.v1.Subjects

/// `Subjects/Enroll`: enrols a person, NOT_SET_UP until details are set. A representative names the client it acts for.
    public func enroll(
        subjectId: String, kind: SubjectKindName = .client, representsSubjectId: String? = nil, contacts: ContactsMessage? = nil,
        timeout: Duration? = nil, actor: String? = nil
    ) async throws -> EnrollResponse {
        try await call(.enroll, EnrollRequest(subjectId: subjectId, kind: kind, representsSubjectId: representsSubjectId, contacts: contacts), timeout: timeout, metadata: metadata(actor))
    }

    /// `Subjects/UpdateContacts`: replaces the e-mail addresses and phones on file, the only places codes go.
    public func updateContacts(subjectId: String, contacts: ContactsMessage, timeout: Duration? = nil, actor: String? = nil) async throws {
        let _: UpdateContactsResponse = try await call(.updateContacts, UpdateContactsRequest(subjectId: subjectId, contacts: contacts), timeout: timeout, metadata: metadata(actor))
    }

    /// `Subjects/GetStatus`: the state, failure count and dates; never a secret.
    public func getStatus(subjectId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> GetStatusResponse {
        try await call(.getStatus, GetStatusRequest(subjectId: subjectId), timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Credentials

    /// `Credentials/SetSecurityDetails`: a caseworker sets the PIN, the password or both (needs an actor).
    public func setSecurityDetails(subjectId: String, pin: String? = nil, password: String? = nil, timeout: Duration? = nil, actor: String? = nil) async throws -> SetSecurityDetailsResponse {
        try await call(.setSecurityDetails, SetSecurityDetailsRequest(subjectId: subjectId, pin: pin, password: password), timeout: timeout, metadata: metadata(actor))
    }

    /// `Credentials/ApplyDefaults`: the person could not be reached or refused; nothing verifies until real details are set.
    public func applyDefaults(subjectId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> ApplyDefaultsResponse {
        try await call(.applyDefaults, ApplyDefaultsRequest(subjectId: subjectId), timeout: timeout, metadata: metadata(actor))
    }

    /// Checks a PIN, a password or both. A mismatch is a result, not an error.
    public func verify(
        subjectId: String, pin: String? = nil, password: String? = nil, channel: ChannelName = .phone, timeout: Duration? = nil, actor: String? = nil
    ) async throws -> VerificationResponse {
        try await call(.verify, VerifyRequest(subjectId: subjectId, pin: pin, password: password, channel: channel), timeout: timeout, metadata: metadata(actor))
    }

    /// `Credentials/Change`: self-service change after every current factor is verified; counted towards the lock.
    public func change(_ request: ChangeRequest, timeout: Duration? = nil, actor: String? = nil) async throws -> VerificationResponse {
        try await call(.change, request, timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Ivr

    /// Generates the subject's IVR PIN; this response is the only time it leaves the service.
    public func generatePin(subjectId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> GeneratePinResponse {
        try await call(.generatePin, GeneratePinRequest(subjectId: subjectId), timeout: timeout, metadata: metadata(actor))
    }

    /// `Ivr/VerifyPin`: checks the IVR PIN a phone system collected; it shares the lock with `verify`.
    public func verifyPin(subjectId: String, pin: String, timeout: Duration? = nil, actor: String? = nil) async throws -> VerificationResponse {
        try await call(.verifyPin, VerifyPinRequest(subjectId: subjectId, pin: pin), timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Mfa

/// `Mfa/IssueCode`: sends a one-time code to a contact on file, through the outbox; the code never comes back.
    public func issueCode(
        subjectId: String, channel: CodeChannelName, purpose: CodePurposeName, destination: String? = nil, timeout: Duration? = nil, actor: String? = nil
    ) async throws -> IssueCodeResponse {
        try await call(.issueCode, IssueCodeRequest(subjectId: subjectId, channel: channel, purpose: purpose, destination: destination), timeout: timeout, metadata: metadata(actor))
    }

    /// Checks a code for the subject and purpose of the caller's flow; a challenge of another
    /// subject or purpose answers NOT_FOUND, as an unknown one does.
    public func verifyCode(
        challengeId: String, code: String, subjectId: String, purpose: CodePurposeName, timeout: Duration? = nil, actor: String? = nil
    ) async throws -> VerifyCodeResponse {
        let request = VerifyCodeRequest(challengeId: challengeId, code: code, subjectId: subjectId, purpose: purpose)
        return try await call(.verifyCode, request, timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Notifications

    /// `Notifications/Lease`: deliveries for the agency's mail, SMS or letter system, each under a
    /// lease token; `channels` hands out only those channels' deliveries.
    public func lease(max: Int = 10, leaseSeconds: Int = 60, channels: [DeliveryChannelName]? = nil, timeout: Duration? = nil) async throws -> [DeliveryMessage] {
        let response: LeaseResponse = try await call(.lease, LeaseRequest(max: max, leaseSeconds: leaseSeconds, channels: channels), timeout: timeout)
        return response.deliveries
    }

    /// Settles a leased delivery; `leaseToken` is the one its lease carried.
    public func ack(deliveryId: String, leaseToken: String, outcome: DeliveryOutcomeName = .sent, timeout: Duration? = nil) async throws {
        let _: AckResponse = try await call(.ack, AckRequest(deliveryId: deliveryId, leaseToken: leaseToken, outcome: outcome), timeout: timeout)
    }

    // MARK: verity.v1.Admin

    /// `Admin/Unblock`: a BLOCKED subject becomes ACTIVE, with the reason in the audit trail.
    public func unblock(subjectId: String, reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> UnblockResponse {
        try await call(.unblock, UnblockRequest(subjectId: subjectId, reason: reason), timeout: timeout, metadata: metadata(actor))
    }

    /// `Admin/ListAudit`: one page of the audit trail, oldest first; `nextAfterSeq` says where to go on.
    public func listAudit(subjectId: String? = nil, afterSeq: Int64? = nil, limit: Int? = nil, timeout: Duration? = nil) async throws -> ListAuditResponse {
        try await call(.listAudit, ListAuditRequest(subjectId: subjectId, afterSeq: afterSeq, limit: limit), timeout: timeout)
    }

    /// `Admin/VerifyAuditChain`: recomputes the audit chain; when intact, a checkpoint of its head to keep elsewhere.
    public func verifyAuditChain(timeout: Duration? = nil) async throws -> VerifyAuditChainResponse {
        try await call(.verifyAuditChain, VerifyAuditChainRequest(), timeout: timeout)
    }

    // MARK: verity.v1.Recovery

    /// Sets the facts given (each replacing the one of its kind on file); answers the kinds on file.
    public func setFacts(_ facts: SetFactsRequest, timeout: Duration? = nil, actor: String? = nil) async throws -> [FactKindName] {
        let response: SetFactsResponse = try await call(.setFacts, facts, timeout: timeout, metadata: metadata(actor))
        return response.factsOnFile
    }

    /// Removes facts on file, with the reason for the audit trail; answers the kinds left on file.
    public func removeFacts(subjectId: String, facts: [FactKindName], reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> [FactKindName] {
        let response: RemoveFactsResponse = try await call(.removeFacts, RemoveFactsRequest(subjectId: subjectId, facts: facts, reason: reason), timeout: timeout, metadata: metadata(actor))
        return response.factsOnFile
    }

    /// The fallback identity check: a mismatch is a result, counted towards the lock.
    public func checkFacts(_ facts: CheckFactsRequest, timeout: Duration? = nil, actor: String? = nil) async throws -> CheckFactsResponse {
        try await call(.checkFacts, facts, timeout: timeout, metadata: metadata(actor))
    }

    /// Opens a request that waits for a copy of an identity document, or returns the one open.
    public func openRecoveryRequest(subjectId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> RecoveryRequestResponse {
        try await call(.openRequest, OpenRequestRequest(subjectId: subjectId), timeout: timeout, metadata: metadata(actor))
    }

    /// `Recovery/ConfirmDocument`: the copy of the document arrived and matches; the reason goes into the audit trail.
    public func confirmRecoveryDocument(
        recoveryRequestId: String, subjectId: String, reason: String, timeout: Duration? = nil, actor: String? = nil
    ) async throws -> RecoveryRequestResponse {
        let request = ConfirmDocumentRequest(recoveryRequestId: recoveryRequestId, subjectId: subjectId, reason: reason)
        return try await call(.confirmDocument, request, timeout: timeout, metadata: metadata(actor))
    }

    /// `Recovery/GetRequest`: a recovery request as it stands now (EXPIRED once past `expiresAt`).
    public func recoveryRequest(recoveryRequestId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> RecoveryRequestResponse {
        try await call(.getRequest, GetRequestRequest(recoveryRequestId: recoveryRequestId), timeout: timeout, metadata: metadata(actor))
    }

    /// `Recovery/RemovePassword`: removes the password with a reason; the PIN stays.
    public func removePassword(subjectId: String, reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> RemovePasswordResponse {
        try await call(.removePassword, RemovePasswordRequest(subjectId: subjectId, reason: reason), timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.ChangeRequests

    /// `ChangeRequests/Raise`: a phone or letter report sends the form (CMSL9800) and waits 7 days;
    /// a self-service one is due within 24 hours.
    public func raiseChangeRequest(
        subjectId: String, source: ChangeRequestSourceName, reason: ChangeRequestReasonName, reportedBy: String,
        timeout: Duration? = nil, actor: String? = nil
    ) async throws -> ChangeRequestMessage {
        let request = RaiseChangeRequestRequest(subjectId: subjectId, source: source, reason: reason, reportedBy: reportedBy)
        return try await call(.raiseChangeRequest, request, timeout: timeout, metadata: metadata(actor))
    }

    /// `ChangeRequests/Get`: a change request as it stands now.
    public func changeRequest(changeRequestId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> ChangeRequestMessage {
        try await call(.getChangeRequest, GetChangeRequestRequest(changeRequestId: changeRequestId), timeout: timeout, metadata: metadata(actor))
    }

    /// `ChangeRequests/List`: one page of the requests that match, oldest first; pass
    /// `nextPageToken` back as `pageToken` for the next.
    public func listChangeRequests(_ filter: ListChangeRequestsRequest = ListChangeRequestsRequest(), timeout: Duration? = nil, actor: String? = nil) async throws -> ListChangeRequestsResponse {
        try await call(.listChangeRequests, filter, timeout: timeout, metadata: metadata(actor))
    }

    /// `ChangeRequests/ReceiveForm`: the form came back; the waits stop.
    public func receiveForm(changeRequestId: String, subjectId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> ChangeRequestMessage {
        try await call(.receiveChangeRequestForm, ReceiveFormRequest(changeRequestId: changeRequestId, subjectId: subjectId), timeout: timeout, metadata: metadata(actor))
    }

    /// `ChangeRequests/Accept`: sets the new details, unblocks a blocked subject, and sends the
    /// confirmation, in one act.
    public func acceptChangeRequest(
        changeRequestId: String, subjectId: String, newPin: String? = nil, newPassword: String? = nil, confirmBySms: Bool = false,
        timeout: Duration? = nil, actor: String? = nil
    ) async throws -> AcceptChangeRequestResponse {
        let request = AcceptChangeRequestRequest(
            changeRequestId: changeRequestId, subjectId: subjectId, newPin: newPin, newPassword: newPassword, confirmBySms: confirmBySms
        )
        return try await call(.acceptChangeRequest, request, timeout: timeout, metadata: metadata(actor))
    }

    /// `ChangeRequests/Decline`, with the reason for the audit trail.
    public func declineChangeRequest(changeRequestId: String, subjectId: String, reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> ChangeRequestMessage {
        let request = DeclineChangeRequestRequest(changeRequestId: changeRequestId, subjectId: subjectId, reason: reason)
        return try await call(.declineChangeRequest, request, timeout: timeout, metadata: metadata(actor))
    }

    /// `ChangeRequests/Close`: ends a request without a decision, with the reason.
    public func closeChangeRequest(changeRequestId: String, subjectId: String, reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> ChangeRequestMessage {
        let request = CloseChangeRequestRequest(changeRequestId: changeRequestId, subjectId: subjectId, reason: reason)
        return try await call(.closeChangeRequest, request, timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Portal

    /// `Portal/StartRegistration`: a registration e-mail, with a single-use token, to the e-mail on file.
    public func startRegistration(subjectId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> StartRegistrationResponse {
        try await call(.startRegistration, StartRegistrationRequest(subjectId: subjectId), timeout: timeout, metadata: metadata(actor))
    }

    /// `Portal/CompleteRegistration`: redeems the e-mailed token once and sets the portal password.
    public func completeRegistration(token: String, password: String, timeout: Duration? = nil) async throws -> CompleteRegistrationResponse {
        try await call(.completeRegistration, CompleteRegistrationRequest(token: token, password: password), timeout: timeout)
    }

    /// `Portal/ResetPassword`: a new password on the grant of a PASSWORD_RESET code verified minutes before.
    public func resetPassword(subjectId: String, challengeId: String, newPassword: String, timeout: Duration? = nil) async throws -> ResetPasswordResponse {
        try await call(.resetPassword, ResetPasswordRequest(subjectId: subjectId, challengeId: challengeId, newPassword: newPassword), timeout: timeout)
    }

    // MARK: verity.v1.Links

    /// `Links/SetFacts`: the facts a link is decided on (hashed; only the name and counties in clear).
    public func setLinkFacts(_ facts: SetLinkFactsRequest, timeout: Duration? = nil, actor: String? = nil) async throws -> SetLinkFactsResponse {
        try await call(.setLinkFacts, facts, timeout: timeout, metadata: metadata(actor))
    }

    /// `Links/Submit`: links at once on a full match with a verified ACCOUNT_LINK code, else queues.
    public func submitLink(_ submission: SubmitLinkRequest, timeout: Duration? = nil) async throws -> SubmitLinkResponse {
        try await call(.submitLink, submission, timeout: timeout)
    }

    /// `Links/Search`: one page of the counties' queues, oldest first.
    public func searchLinkRequests(_ filter: SearchLinkRequestsRequest = SearchLinkRequestsRequest(), timeout: Duration? = nil, actor: String? = nil) async throws -> SearchLinkRequestsResponse {
        try await call(.searchLinkRequests, filter, timeout: timeout, metadata: metadata(actor))
    }

    /// `Links/Show`: a request with the person's cases and link.
    public func showLinkRequest(linkRequestId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> ShowLinkRequestResponse {
        try await call(.showLinkRequest, ShowLinkRequestRequest(linkRequestId: linkRequestId), timeout: timeout, metadata: metadata(actor))
    }

    /// `Links/Link`: links the request's account; its submission's other requests are processed too.
    public func linkAccount(linkRequestId: String, timeout: Duration? = nil, actor: String? = nil) async throws -> LinkAccountResponse {
        try await call(.linkAccount, LinkAccountRequest(linkRequestId: linkRequestId), timeout: timeout, metadata: metadata(actor))
    }

    /// `Links/Reject`, with the reason; the submission's requests in other counties stay pending.
    public func rejectLinkRequest(linkRequestId: String, reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> RejectLinkResponse {
        try await call(.rejectLinkRequest, RejectLinkRequest(linkRequestId: linkRequestId, reason: reason), timeout: timeout, metadata: metadata(actor))
    }

    /// `Links/Unlink` (admin): unlinks the person's account and queues them to be linked again.
    public func unlinkAccount(subjectId: String, reason: String, timeout: Duration? = nil, actor: String? = nil) async throws -> UnlinkAccountResponse {
        try await call(.unlinkAccount, UnlinkAccountRequest(subjectId: subjectId, reason: reason), timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Development

    /// `Development/AdvanceClock`: moves a development server's clock forward and takes the
    /// timed steps that fell due. A production server answers `UNIMPLEMENTED`.
    public func advanceClock(seconds: Int, timeout: Duration? = nil, actor: String? = nil) async throws -> AdvanceClockResponse {
        try await call(.advanceClock, AdvanceClockRequest(seconds: seconds), timeout: timeout, metadata: metadata(actor))
    }

    // MARK: verity.v1.Health

    /// `.serving` or `.notServing`.
    public func healthCheck(timeout: Duration? = nil) async throws -> ServingStatusName {
        let response: CheckResponse = try await call(.healthCheck, CheckRequest(), timeout: timeout)
        return response.status
    }
}
