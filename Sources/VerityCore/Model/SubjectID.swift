//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The calling system's own stable id for a person: 1 to 128 characters of
/// `A-Z a-z 0-9 . _ : / -`, such as `case-1234567/PWC`.
package struct SubjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    package static let maximumLength = 128

    package let rawValue: String

    /// Validates `rawValue`.
    ///
    /// - Throws: ``CredentialError/invalidArgument(field:reason:message:)`` with reason
    ///   `INVALID_SUBJECT_ID`; the message says what the id may hold.
    package init(_ rawValue: String, field: String = "subjectId") throws(CredentialError) {
        guard (1...Self.maximumLength).contains(rawValue.utf8.count), rawValue.utf8.allSatisfy(Self.isAllowed) else {
            throw .invalidArgument(
                field: field,
                reason: "INVALID_SUBJECT_ID",
                message: "\(field) must be 1 to \(Self.maximumLength) characters of A-Z a-z 0-9 . _ : / -"
            )
        }
        self.rawValue = rawValue
    }

    package var description: String { rawValue }

    package static func < (lhs: SubjectID, rhs: SubjectID) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
