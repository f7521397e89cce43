//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The rules for a security PIN chosen by a person.
///
/// Exactly seven ASCII digits, never all zeroes (the procedures' own rules); and, beyond them,
/// not the well-known default 1234567, not one repeated digit, not a straight run up or down,
/// because those are the first guesses anyone makes.
package struct PINPolicy: Sendable {
    package static let length = 7
    package static let knownDefault = "1234567"

    package init() {}

    /// Checks a PIN someone has chosen.
    ///
    /// - Throws: the first ``PolicyViolation`` in the order of ``PolicyViolation/Reason``.
    package func check(_ pin: String, field: String = "pin") throws(PolicyViolation) {
        func refuse(_ reason: PolicyViolation.Reason, _ message: String) -> PolicyViolation {
            PolicyViolation(field: field, reason: reason, message: message)
        }
        let digits = Array(pin.utf8)
        guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw refuse(.notDigits, "a PIN holds digits 0-9 only")
        }
        guard digits.count == Self.length else { throw refuse(.length, "a PIN has exactly \(Self.length) digits") }
        guard digits.contains(where: { $0 != UInt8(ascii: "0") }) else {
            throw refuse(.allZeroes, "a PIN cannot be all zeroes")
        }
        guard pin != Self.knownDefault else { throw refuse(.knownDefault, "this is a well-known default PIN; choose another") }
        guard !DigitPatterns.isOneRepeatedDigit(digits) else { throw refuse(.repeatedDigit, "a PIN cannot be one digit repeated") }
        guard !DigitPatterns.isStraightRun(digits) else {
            throw refuse(.sequence, "a PIN cannot be a straight run of digits up or down")
        }
    }
}
