//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Every v1 method, by its path `verity.v1.Service/Method`.
public enum Method: String, CaseIterable, Sendable {
    /// Enrols a person, who starts `NOT_SET_UP`.
    case enroll = "verity.v1.Subjects/Enroll"
    /// Replaces the contacts on file with the ones given.
    case updateContacts = "verity.v1.Subjects/UpdateContacts"
    /// A subject's kind, state, failure count and dates; never a secret or a hash.
    case getStatus = "verity.v1.Subjects/GetStatus"
    /// Sets a person's PIN, password or both, on a caseworker's say; the subject becomes `ACTIVE`.
    case setSecurityDetails = "verity.v1.Credentials/SetSecurityDetails"
    /// Marks that the person could not be reached or refused: details removed, `DEFAULTS_APPLIED`.
    case applyDefaults = "verity.v1.Credentials/ApplyDefaults"
    /// A security check of a PIN, a password or both, under the lock on failed checks.
    case verify = "verity.v1.Credentials/Verify"
    /// Self-service change of the details, after the current ones are verified as `verify` does.
    case change = "verity.v1.Credentials/Change"
    /// Generates a new IVR PIN, replacing any earlier one; the only time it leaves the service.
    case generatePin = "verity.v1.Ivr/GeneratePin"
    /// Checks an IVR PIN, under the same lock as `verify`.
    case verifyPin = "verity.v1.Ivr/VerifyPin"
    /// Issues a one-time code and queues it for delivery; the code is never in the response.
    case issueCode = "verity.v1.Mfa/IssueCode"
    /// Checks a one-time code; its failures have their own limit, not the lock's.
    case verifyCode = "verity.v1.Mfa/VerifyCode"
    /// Leases deliveries waiting in the outbox, for a mail, SMS or letter system to send.
    case lease = "verity.v1.Notifications/Lease"
    /// Acknowledges a leased delivery, `SENT` or `FAILED`; either way it is finished.
    case ack = "verity.v1.Notifications/Ack"
    /// Unblocks a `BLOCKED` subject, with a reason for the audit trail.
    case unblock = "verity.v1.Admin/Unblock"
    /// Audit events after a given `seq`, oldest first.
    case listAudit = "verity.v1.Admin/ListAudit"
    /// Recomputes the audit chain, reports the first break, or vouches for its head.
    case verifyAuditChain = "verity.v1.Admin/VerifyAuditChain"
    /// Whether the service can serve.
    case healthCheck = "verity.v1.Health/Check"
    /// Puts recovery facts on file, each kind given replacing the one on file.
    case setFacts = "verity.v1.Recovery/SetFacts"
    /// Removes recovery facts on file, with a reason.
    case removeFacts = "verity.v1.Recovery/RemoveFacts"
    /// The fallback identity check against the facts on file; a security check like `verify`.
    case checkFacts = "verity.v1.Recovery/CheckFacts"
    /// Removes the password, with a reason; the PIN stays.
    case removePassword = "verity.v1.Recovery/RemovePassword"
    /// Opens a recovery request that waits for a copy of an identity document.
    case openRequest = "verity.v1.Recovery/OpenRequest"
    /// A caseworker confirms the document the person sent, with a reason.
    case confirmDocument = "verity.v1.Recovery/ConfirmDocument"
    /// A recovery request as it stands now.
    case getRequest = "verity.v1.Recovery/GetRequest"
    /// Raises a request to change a person's security details.
    case raiseChangeRequest = "verity.v1.ChangeRequests/Raise"
    /// A change request as it stands now.
    case getChangeRequest = "verity.v1.ChangeRequests/Get"
    /// Change requests matching every filter given, oldest first, a page at a time.
    case listChangeRequests = "verity.v1.ChangeRequests/List"
    /// Records that the form came back: `WAITING` becomes `IN_PROGRESS`.
    case receiveChangeRequestForm = "verity.v1.ChangeRequests/ReceiveForm"
    /// Accepts a change: the new details are set and a confirmation is queued.
    case acceptChangeRequest = "verity.v1.ChangeRequests/Accept"
    /// Declines a change, with the caseworker's reason; no details change.
    case declineChangeRequest = "verity.v1.ChangeRequests/Decline"
    /// Ends a change request without a decision, with the caseworker's reason.
    case closeChangeRequest = "verity.v1.ChangeRequests/Close"
    /// Starts a portal registration: a single-use token is e-mailed to the person.
    case startRegistration = "verity.v1.Portal/StartRegistration"
    /// Redeems a registration token and sets the password the person chose.
    case completeRegistration = "verity.v1.Portal/CompleteRegistration"
    /// Sets a new password on the grant of a verified `PASSWORD_RESET` code.
    case resetPassword = "verity.v1.Portal/ResetPassword"
    /// Puts on file the facts an account link is decided on, replacing any before.
    case setLinkFacts = "verity.v1.Links/SetFacts"
    /// The portal asks to link an account to the person: linked at once, or queued in the counties.
    case submitLink = "verity.v1.Links/Submit"
    /// The counties' queues of link requests, filtered, oldest first, a page at a time.
    case searchLinkRequests = "verity.v1.Links/Search"
    /// A link request with the person's cases, link and other pending requests as they are now.
    case showLinkRequest = "verity.v1.Links/Show"
    /// A caseworker links a request's account to its person; its submission's requests are processed.
    case linkAccount = "verity.v1.Links/Link"
    /// A caseworker rejects one link request, with a reason.
    case rejectLinkRequest = "verity.v1.Links/Reject"
    /// Unlinks the person's portal account and queues them to be linked again.
    case unlinkAccount = "verity.v1.Links/Unlink"
    /// Development mode only: a production server answers `UNIMPLEMENTED`.
    case advanceClock = "verity.v1.Development/AdvanceClock"

    /// The path on the wire.
    public var path: String { rawValue }

    /// Methods that act on a person's secrets or lock on a caseworker's say: the caseworker must
    /// be named in `metadata.actor`, so the audit trail tells who did it.
    public var requiresActor: Bool {
        switch self {
        case .unblock, .setSecurityDetails, .applyDefaults, .generatePin, .setFacts, .removeFacts, .checkFacts, .removePassword, .openRequest,
             .confirmDocument, .raiseChangeRequest, .receiveChangeRequestForm, .acceptChangeRequest, .declineChangeRequest, .closeChangeRequest, .advanceClock,
             .startRegistration, .setLinkFacts, .linkAccount, .rejectLinkRequest, .unlinkAccount, .searchLinkRequests, .showLinkRequest:
            true
        default: false
        }
    }

    /// Methods that change what Verity holds; a refusal of one is audited.
    public var isMutating: Bool {
        switch self {
        case .getStatus, .verify, .verifyPin, .verifyCode, .listAudit, .verifyAuditChain, .healthCheck, .checkFacts, .getRequest,
             .getChangeRequest, .listChangeRequests, .searchLinkRequests, .showLinkRequest:
            false
        default: true
        }
    }
}
