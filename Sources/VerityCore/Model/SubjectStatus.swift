//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// What a subject's status shows: states and dates, never a secret or a hash.
public struct SubjectStatus: Equatable, Sendable {
    public var subjectID: SubjectID
    public var kind: SubjectKind
    public var representsSubjectID: SubjectID?
    public var state: SubjectState
    public var consecutiveFailures: Int
    public var blockedAt: Date?
    public var blockReason: String?
    public var hasPIN: Bool
    public var hasPassword: Bool
    public var ivrPINUpdatedAt: Date?
    public var updatedAt: Date

    init(_ subject: Subject) {
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
