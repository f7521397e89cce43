//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// What a subject's status shows: states and dates, never a secret or a hash.
package struct SubjectStatus: Equatable, Sendable {
    package var subjectID: SubjectID
    package var kind: SubjectKind
    package var representsSubjectID: SubjectID?
    package var state: SubjectState
    package var consecutiveFailures: Int
    package var blockedAt: Date?
    package var blockReason: String?
    package var hasPIN: Bool
    package var hasPassword: Bool
    package var ivrPINUpdatedAt: Date?
    package var updatedAt: Date

    package init(
        subjectID: SubjectID, kind: SubjectKind, representsSubjectID: SubjectID?, state: SubjectState, consecutiveFailures: Int,
        blockedAt: Date?, blockReason: String?, hasPIN: Bool, hasPassword: Bool, ivrPINUpdatedAt: Date?, updatedAt: Date
    ) {
        self.subjectID = subjectID
        self.kind = kind
        self.representsSubjectID = representsSubjectID
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.blockedAt = blockedAt
        self.blockReason = blockReason
        self.hasPIN = hasPIN
        self.hasPassword = hasPassword
        self.ivrPINUpdatedAt = ivrPINUpdatedAt
        self.updatedAt = updatedAt
    }

    package init(_ subject: Subject) {
        subjectID = subject.id
        kind = subject.kind
        representsSubjectID = subject.representsSubjectID
        state = subject.state
        consecutiveFailures = subject.consecutiveFailures
        blockedAt = subject.blockedAt
        blockReason = subject.blockReason
        hasPIN = subject.credentials.pinHash != nil
        hasPassword = subject.credentials.passwordHash != nil
        ivrPINUpdatedAt = subject.credentials.ivrPinUpdatedAt
        updatedAt = subject.updatedAt
    }
}
