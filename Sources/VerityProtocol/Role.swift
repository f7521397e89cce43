//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The roles a caller's certificate can name in its OU.
public enum Role: String, CaseIterable, Sendable {
    /// Systems that check callers: the portal, case systems.
    case verifier
    /// Phone integrations: PIN checks only.
    case ivr
    /// Caseworker systems: enrol, set details, defaults, IVR PIN, codes.
    case agent
    /// Mail, SMS and letter systems draining the notification outbox.
    case notifier
    /// Unblocking, the audit trail, and everything else.
    case admin
}

/// Which role may call which method: the one place in the code that decides it.
///
/// Deny by default: a method not listed for a role is refused, and `admin` may call everything.
public enum RoleTable {
    /// Whether a caller of `role` may call `method`; a refusal is PERMISSION_DENIED, and audited.
    public static func allows(_ role: Role, _ method: Method) -> Bool {
        role == .admin || allowed[method, default: []].contains(role)
    }

    private static let allowed: [Method: Set<Role>] = [
        .enroll: [.agent],
        .updateContacts: [.agent],
        .getStatus: [.verifier, .ivr, .agent],
        .setSecurityDetails: [.agent],
        .applyDefaults: [.agent],
        .verify: [.verifier, .agent],
        .change: [.verifier, .agent],
        .generatePin: [.agent],
        .verifyPin: [.ivr, .agent],
        .issueCode: [.verifier, .agent],
        .verifyCode: [.verifier, .agent],
        .lease: [.notifier],
        .ack: [.notifier],
        .healthCheck: Set(Role.allCases),
        .setFacts: [.agent],
        .removeFacts: [.agent],
        .checkFacts: [.agent],
        .removePassword: [.agent],
        .openRequest: [.agent],
        .confirmDocument: [.agent],
        .getRequest: [.agent],
        .raiseChangeRequest: [.agent],
        .getChangeRequest: [.agent],
        .listChangeRequests: [.agent],
        .receiveChangeRequestForm: [.agent],
        .acceptChangeRequest: [.agent],
        .declineChangeRequest: [.agent],
        .closeChangeRequest: [.agent],
        .startRegistration: [.agent],
        .completeRegistration: [.verifier],
        .resetPassword: [.verifier],
        .setLinkFacts: [.agent],
        .submitLink: [.verifier],
        .searchLinkRequests: [.agent],
        .showLinkRequest: [.agent],
        .linkAccount: [.agent],
        .rejectLinkRequest: [.agent],
        // Procedure 003: only users with the rights may unlink; here, admin alone.
        .unlinkAccount: [],
    ]
}
