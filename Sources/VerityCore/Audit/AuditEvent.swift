//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// One act recorded in the audit trail: who did what to whom, and how it ended.
///
/// Events never hold a secret, nor a hash of one: `facts` say what was checked or changed
/// ("PIN verified", "reason: ..."), not with what.
package struct AuditEvent: Equatable, Sendable {
    /// The position in the trail, from 1, without gaps.
    package var seq: Int64
    package var time: Date
    /// The calling system (its certificate's CN).
    package var caller: String
    /// The calling system's role.
    package var role: String
    /// The person on whose behalf the system called, such as a caseworker's id.
    package var actor: String?
    package var subjectID: String?
    /// The method called, such as `verity.v1.Credentials/Verify`.
    package var method: String
    package var action: AuditAction
    package var outcome: String
    package var facts: [String]
    /// The ``hash`` of the event before, or 64 zeroes for the first.
    package var previousHash: String
    /// The pepper key whose audit-chain key sealed this event; `nil` for an event written before
    /// the chain was keyed, whose hash is a plain SHA-256.
    package var keyID: String?
    /// HMAC-SHA256 (hex) of this event's canonical bytes, which include ``previousHash``, under
    /// the audit-chain key of ``keyID`` (``AuditChain``).
    package var hash: String

    /// A new event, sealed with `keys`' current key.
    package init(
        seq: Int64,
        draft: AuditDraft,
        previousHash: String,
        keys: AuditChainKeys
    ) {
        self.seq = seq
        self.time = draft.time
        self.caller = draft.context.caller
        self.role = draft.context.role
        self.actor = draft.context.actor
        self.subjectID = draft.subjectID?.rawValue
        self.method = draft.context.method ?? draft.action.rawValue
        self.action = draft.action
        self.outcome = draft.outcome
        self.facts = draft.facts
        self.previousHash = previousHash
        self.keyID = keys.currentKeyID
        self.hash = ""
        self.hash = AuditChain.hash(of: self, key: keys.currentKey)
    }

    package init(
        seq: Int64, time: Date, caller: String, role: String, actor: String?, subjectID: String?,
        method: String, action: AuditAction, outcome: String, facts: [String], previousHash: String, keyID: String?, hash: String
    ) {
        self.seq = seq
        self.time = time
        self.caller = caller
        self.role = role
        self.actor = actor
        self.subjectID = subjectID
        self.method = method
        self.action = action
        self.outcome = outcome
        self.facts = facts
        self.previousHash = previousHash
        self.keyID = keyID
        self.hash = hash
    }
}

/// An event to append: everything but its place in the chain.
package struct AuditDraft: Equatable, Sendable {
    package var time: Date
    package var context: CallContext
    package var subjectID: SubjectID?
    package var action: AuditAction
    package var outcome: String
    package var facts: [String]

    package init(
        time: Date, context: CallContext, subjectID: SubjectID?, action: AuditAction, outcome: String, facts: [String] = []
    ) {
        self.time = time
        self.context = context
        self.subjectID = subjectID
        self.action = action
        self.outcome = outcome
        self.facts = facts
    }
}

/// What an audited act was.
package enum AuditAction: String, CaseIterable, Codable, Sendable {
    case enroll = "ENROLL"
    case updateContacts = "UPDATE_CONTACTS"
    case setSecurityDetails = "SET_SECURITY_DETAILS"
    case applyDefaults = "APPLY_DEFAULTS"
    case verify = "VERIFY"
    case change = "CHANGE"
    /// The subject was blocked: a third consecutive failure, or an attempt whose outcome was lost.
    case lock = "LOCK"
    case unblock = "UNBLOCK"
    case generateIVRPIN = "GENERATE_IVR_PIN"
    case verifyIVRPIN = "VERIFY_IVR_PIN"
    case issueCode = "ISSUE_CODE"
    case verifyCode = "VERIFY_CODE"
    case leaseDeliveries = "LEASE_DELIVERIES"
    case acknowledgeDelivery = "ACK_DELIVERY"
    case getStatus = "GET_STATUS"
    case permissionDenied = "PERMISSION_DENIED"
    /// A mutating call refused by a policy, a precondition or a rate limit.
    case refused = "REFUSED"
    /// Facts on file for the fallback identity check were set or replaced (never their values).
    case setFacts = "SET_FACTS"
    case removeFacts = "REMOVE_FACTS"
    /// A fallback identity check against the facts on file (procedure 000).
    case checkFacts = "CHECK_FACTS"
    /// The password was removed, with the caseworker's reason (procedure 000, step 4).
    case removePassword = "REMOVE_PASSWORD"
    /// A recovery request was opened: nothing on file could confirm the person.
    case openRecovery = "OPEN_RECOVERY"
    /// A caseworker confirmed the identity document of a recovery request.
    case confirmRecovery = "CONFIRM_RECOVERY"
    /// A change request was raised (procedure 002), and its form sent where one is.
    case raiseChangeRequest = "RAISE_CHANGE_REQUEST"
    /// The scheduler sent a change request's reminder, seven days after its form.
    case remindChangeRequest = "REMIND_CHANGE_REQUEST"
    /// The form of a change request came back.
    case receiveChangeRequestForm = "RECEIVE_CHANGE_REQUEST_FORM"
    case acceptChangeRequest = "ACCEPT_CHANGE_REQUEST"
    /// Declined by a caseworker, or by the scheduler when the person never answered.
    case declineChangeRequest = "DECLINE_CHANGE_REQUEST"
    case closeChangeRequest = "CLOSE_CHANGE_REQUEST"
    /// A development server's clock was moved forward (`Development/AdvanceClock`); never in production.
    case advanceClock = "ADVANCE_CLOCK"
    /// A caseworker started portal registration: a registration e-mail with a single-use token.
    case startPortalRegistration = "START_PORTAL_REGISTRATION"
    /// The portal redeemed a registration token and set the portal password.
    case completePortalRegistration = "COMPLETE_PORTAL_REGISTRATION"
    /// The portal set a new password on the grant of a verified PASSWORD_RESET code.
    case resetPassword = "RESET_PASSWORD"
    /// The case system put the facts for linking a portal account on file (never their values).
    case setLinkFacts = "SET_LINK_FACTS"
    /// The portal asked to link an account: linked automatically, or queued in the counties.
    case submitLink = "SUBMIT_LINK"
    /// A caseworker linked an account by processing a link request.
    case linkAccount = "LINK_ACCOUNT"
    case rejectLink = "REJECT_LINK"
    /// A caseworker searched the counties' queues.
    case searchLinkRequests = "SEARCH_LINK_REQUESTS"
    /// A caseworker looked at a link request: the person's cases and policy flags.
    case showLinkRequest = "SHOW_LINK_REQUEST"
    /// A caseworker unlinked an account; the person is queued to be linked again.
    case unlinkAccount = "UNLINK_ACCOUNT"
    /// The chain is keyed from this event on: written once, when a store whose trail was not
    /// keyed is first opened keyed, so that the old events are vouched for at once.
    case chainKeyed = "CHAIN_KEYED"
}
