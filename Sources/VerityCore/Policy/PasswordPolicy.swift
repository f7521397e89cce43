//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The rules for a special password chosen by a person.
///
/// 8 to 64 characters, and 8 or more as spoken (case folded, spacing removed); no inappropriate language (matched on normalised words, so `Sh1t`
/// and `s.h.i.t` are caught while `Scunthorpe` is not); never containing the PIN; not one of
/// the most common passwords. The word lists ship with the package
/// (`Policy/generate-word-lists.py` says where they come from).
package struct PasswordPolicy: Sendable {
    package static let minimumLength = 8
    package static let maximumLength = 64

    package init() {}

    /// Checks a password someone has chosen.
    ///
    /// - Parameters:
    ///   - password: the password as typed.
    ///   - pin: the PIN set in the same request, if any; the password may not contain it.
    /// - Throws: the first ``PolicyViolation`` found.
    package func check(_ password: String, pin: String? = nil, field: String = "password") throws(PolicyViolation) {
        func refuse(_ reason: PolicyViolation.Reason, _ message: String) -> PolicyViolation {
            PolicyViolation(field: field, reason: reason, message: message)
        }
        let length = PasswordForm.exact.normalize(password).count
        guard length >= Self.minimumLength else {
            throw refuse(.tooShort, "a password has at least \(Self.minimumLength) characters")
        }
        guard length <= Self.maximumLength else {
            throw refuse(.tooLong, "a password has at most \(Self.maximumLength) characters")
        }
        // On the phone only the spoken form is compared, so it must be a password too:
        // "        " or "Ab          " would otherwise let "" or "ab" pass a phone check.
        let spoken = PasswordForm.spoken.normalize(password)
        guard spoken.count >= Self.minimumLength else {
            throw refuse(.tooShort, "a password has at least \(Self.minimumLength) characters as spoken, without spaces")
        }
        let folded = password.precomposedStringWithCompatibilityMapping.lowercased()
        guard !Self.containsInappropriateLanguage(folded) else {
            throw refuse(.inappropriateLanguage, "a password cannot contain inappropriate language")
        }
        if let pin, !pin.isEmpty, spoken.contains(pin) {
            throw refuse(.containsPIN, "a password cannot contain the PIN")
        }
        guard !Self.isCommon(spoken) else {
            throw refuse(.tooCommon, "this choice is among the most common; pick something less predictable")
        }
    }

    static let commonPasswords: Set<Substring> = Set(commonPasswordList.split(separator: "\n").map { $0.drop { $0 == " " } })
    static let inappropriateWords: Set<Substring> = Set(inappropriateWordList.split(separator: "\n").map { $0.drop { $0 == " " } })
    /// Roots that are offensive wherever they stand inside a word; the rest of the list is
    /// matched on whole words only, because many short words hide inside innocent ones.
    static let inappropriateRoots = ["fuck", "nigger", "faggot"]

    /// Whether the password, or the password without the digits and symbols appended to it, is
    /// on the common-password list (`sunshine2024!` is `sunshine` with a suffix).
    static func isCommon(_ spoken: String) -> Bool {
        let stem = spoken.reversed().drop { !$0.isLetter }.reversed()
        return commonPasswords.contains(Substring(spoken))
            || (stem.count >= minimumLength && commonPasswords.contains(Substring(String(stem))))
    }

    /// Whether any word of the case-folded password, or all its letters run together
    /// (`s.h.i.t`), is an offensive word, or holds one of the roots offensive anywhere.
    static func containsInappropriateLanguage(_ folded: String) -> Bool {
        for reading in LetterSubstitution.readings(of: folded) {
            let words = reading.split { !$0.isLetter }
            let squashed = Substring(String(reading.filter(\.isLetter)))
            if words.contains(where: inappropriateWords.contains) || inappropriateWords.contains(squashed) {
                return true
            }
            if inappropriateRoots.contains(where: squashed.contains) {
                return true
            }
        }
        return false
    }
}

/// Undoes the common letter-for-digit and letter-for-symbol swaps (`sh1t`, `@ss`, `$hit`).
enum LetterSubstitution {
    private static let shared: [Character: Character] = [
        "0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "+": "t",
    ]

    /// The text read with each swap undone; `1` and `|` may stand for `i` or `l`, so there are two readings.
    static func readings(of text: String) -> [String] {
        ["i", "l"].map { one in
            String(text.map { character in
                if character == "1" || character == "|" { return Character(one) }
                return shared[character] ?? character
            })
        }
    }
}
