//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Who is asking: the calling system, its role, and the person it acts for.
///
/// The server fills this from the verified client certificate and the request's metadata;
/// every audit event carries it.
package struct CallContext: Equatable, Sendable {
    /// The calling system, as named by its certificate's CN.
    package var caller: String
    /// The caller's role, from its certificate's OU.
    package var role: String
    /// The person on whose behalf the system calls (metadata `actor`), such as a caseworker id.
    package var actor: String?
    /// The method path being served, such as `verity.v1.Admin/Unblock`; `nil` when the use case
    /// is called as a library, and the audit trail then names the action instead.
    package var method: String?
    /// The caller's request id (metadata `requestId`), for correlating logs.
    package var requestID: String?

    package init(caller: String, role: String, actor: String? = nil, method: String? = nil, requestID: String? = nil) {
        self.caller = caller
        self.role = role
        self.actor = actor
        self.method = method
        self.requestID = requestID
    }
}
