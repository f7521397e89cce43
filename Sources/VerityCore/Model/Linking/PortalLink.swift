//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A portal account linked to a person: one account per person, one person per account.
package struct PortalLink: Equatable, Sendable {
    package enum Method: String, CaseIterable, Sendable {
        /// Every fact matched and the person passed a one-time code.
        case automatic = "AUTOMATIC"
        /// A caseworker processed a link request.
        case manual = "MANUAL"
    }

    /// The portal's identifier of the account: a GUID, lower case.
    package var portalAccountID: String
    package var subjectID: SubjectID
    package var linkedAt: Date
    package var method: Method

    package init(portalAccountID: String, subjectID: SubjectID, linkedAt: Date, method: Method) {
        self.portalAccountID = portalAccountID
        self.subjectID = subjectID
        self.linkedAt = linkedAt
        self.method = method
    }
}
