//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
@testable import VerityCore

@Suite("Password policy")
struct PasswordPolicyTests {
    let policy = PasswordPolicy()

    func reason(_ password: String, pin: String? = nil) -> PolicyViolation.Reason? {
        do {
            try policy.check(password, pin: pin)
            return nil
        } catch {
            #expect(error.field == "password")
            #expect(!error.message.contains(password))
            return error.reason
        }
    }

    @Test(arguments: [
        "Blue kettle 1987", "marmalade-otter", "Scunthorpe United", "Cockburn Street 12", "assessment day",
        "Middlesex cricket", "classic basement", "Shiitake risotto", "Penistone road", "grape escape 7",
    ])
    func acceptsOrdinaryPasswords(_ password: String) {
        #expect(reason(password) == nil)
    }

    @Test func lengthIsCountedInCharacters() {
        #expect(reason("Short1!") == .tooShort)
        #expect(reason("") == .tooShort)
        #expect(reason("Blue kettle \u{1F600}") == nil)
        #expect(reason(String(repeating: "é", count: 64)) == nil)
        #expect(reason(String(repeating: "ab", count: 32) + "c") == .tooLong)
    }

    /// The phone compares the spoken form only: it must be long enough on its own.
    @Test(arguments: ["        ", "Ab          ", "a b c d e f g", "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}"])
    func refusesAPasswordWhoseSpokenFormIsShort(_ password: String) {
        #expect(reason(password) == .tooShort)
    }

    @Test(arguments: [
        "what the fuck", "fuckingawesome", "Sh1t happens", "big $hit day", "s.h.i.t.h.e.a.d", "you are a Tw4t",
        "WANKER forever", "B.A.S.T.A.R.D", "m0therfucker99",
    ])
    func refusesInappropriateLanguage(_ password: String) {
        #expect(reason(password) == .inappropriateLanguage)
    }

    @Test func refusesAPasswordContainingThePIN() {
        #expect(reason("kettle4829157", pin: "4829157") == .containsPIN)
        #expect(reason("kettle 482 9157", pin: "4829157") == .containsPIN)
        #expect(reason("kettle4829157", pin: "5555123") == nil)
    }

    @Test(arguments: ["password", "Password", "PASSWORD1", "iloveyou", "sunshine", "qwertyuiop", "sunshine2024!", "base ball"])
    func refusesCommonPasswords(_ password: String) {
        #expect(reason(password) == .tooCommon)
    }

    @Test func theShippedListsAreLargeEnough() {
        #expect(PasswordPolicy.commonPasswords.count >= 1000)
        #expect(PasswordPolicy.commonPasswords.contains("password"))
        #expect(PasswordPolicy.inappropriateWords.count >= 300)
        #expect(PasswordPolicy.commonPasswords.allSatisfy { $0.count >= PasswordPolicy.minimumLength })
    }

    @Test func theSpokenFormFoldsCaseAndSpacing() {
        #expect(PasswordForm.spoken.normalize("Blue  Kettle\t1987") == "bluekettle1987")
        #expect(PasswordForm.exact.normalize("Blue Kettle") == "Blue Kettle")
        // NFC: "é" typed as one scalar or as "e" and a combining accent hashes alike.
        #expect(Array(PasswordForm.exact.normalize("caf\u{65}\u{301}").utf8) == Array("caf\u{e9}".utf8))
    }
}
