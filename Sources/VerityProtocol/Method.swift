//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Every v1 method, by its path `verity.v1.Service/Method`.
public enum Method: String, CaseIterable, Sendable {
    case enroll = "verity.v1.Subjects/Enroll"
    case updateContacts = "verity.v1.Subjects/UpdateContacts"
    case getStatus = "verity.v1.Subjects/GetStatus"
    case setSecurityDetails = "verity.v1.Credentials/SetSecurityDetails"
    case applyDefaults = "verity.v1.Credentials/ApplyDefaults"
    case verify = "verity.v1.Credentials/Verify"
    case change = "verity.v1.Credentials/Change"
    case generatePin = "verity.v1.Ivr/GeneratePin"
    case verifyPin = "verity.v1.Ivr/VerifyPin"
    case issueCode = "verity.v1.Mfa/IssueCode"
    case verifyCode = "verity.v1.Mfa/VerifyCode"
    case lease = "verity.v1.Notifications/Lease"
    case ack = "verity.v1.Notifications/Ack"
    case unblock = "verity.v1.Admin/Unblock"
    case listAudit = "verity.v1.Admin/ListAudit"
    case verifyAuditChain = "verity.v1.Admin/VerifyAuditChain"
    case healthCheck = "verity.v1.Health/Check"
    case setFacts = "verity.v1.Recovery/SetFacts"
    case removeFacts = "verity.v1.Recovery/RemoveFacts"
    case checkFacts = "verity.v1.Recovery/CheckFacts"
    case removePassword = "verity.v1.Recovery/RemovePassword"
    case openRequest = "verity.v1.Recovery/OpenRequest"
    case confirmDocument = "verity.v1.Recovery/ConfirmDocument"
    case getRequest = "verity.v1.Recovery/GetRequest"
    case raiseChangeRequest = "verity.v1.ChangeRequests/Raise"
    case getChangeRequest = "verity.v1.ChangeRequests/Get"
    case listChangeRequests = "verity.v1.ChangeRequests/List"
    case receiveChangeRequestForm = "verity.v1.ChangeRequests/ReceiveForm"
    case acceptChangeRequest = "verity.v1.ChangeRequests/Accept"
    case declineChangeRequest = "verity.v1.ChangeRequests/Decline"
    case closeChangeRequest = "verity.v1.ChangeRequests/Close"
    case startRegistration = "verity.v1.Portal/StartRegistration"
    case completeRegistration = "verity.v1.Portal/CompleteRegistration"
    case resetPassword = "verity.v1.Portal/ResetPassword"
    case setLinkFacts = "verity.v1.Links/SetFacts"
    case submitLink = "verity.v1.Links/Submit"
    case searchLinkRequests = "verity.v1.Links/Search"
    case showLinkRequest = "verity.v1.Links/Show"
    case linkAccount = "verity.v1.Links/Link"
    case rejectLinkRequest = "verity.v1.Links/Reject"
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
