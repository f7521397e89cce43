//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
@testable import VerityCore

@Suite("PIN policy")
struct PINPolicyTests {
    let policy = PINPolicy()

    @Test(arguments: ["4829157", "0000001", "1357913", "9081726", "1234568", "1122334", "0123457"])
    func acceptsAnOrdinaryPIN(_ pin: String) throws {
        try policy.check(pin)
    }

    @Test(arguments: [
        ("482915", PolicyViolation.Reason.length), ("48291570", .length), ("", .length),
        ("48a9157", .notDigits), ("4829 57", .notDigits), ("４８２９１５７", .notDigits), ("-482915", .notDigits),
        ("0000000", .allZeroes),
        ("1234567", .knownDefault),
        ("7777777", .repeatedDigit), ("1111111", .repeatedDigit),
        ("2345678", .sequence), ("0123456", .sequence), ("3456789", .sequence),
        ("7654321", .sequence), ("9876543", .sequence), ("6543210", .sequence),
    ])
    func refusesWithItsOwnReason(_ pin: String, _ reason: PolicyViolation.Reason) {
        #expect(throws: PolicyViolation(field: "pin", reason: reason, message: message(for: pin))) {
            try policy.check(pin)
        }
    }

    @Test func theMessageNeverRepeatsThePIN() {
        for pin in ["7777777", "2345678", "48a9157"] {
            do {
                try policy.check(pin)
                Issue.record("\(pin) was accepted")
            } catch {
                #expect(!error.message.contains(pin))
                #expect(!error.description.contains(pin))
            }
        }
    }

    private func message(for pin: String) -> String {
        do {
            try policy.check(pin)
            return ""
        } catch {
            return error.message
        }
    }
}
