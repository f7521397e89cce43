//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The e-mail addresses and phone numbers on file for a subject: the only places one-time
/// codes may be sent.
package struct Contacts: Equatable, Codable, Sendable {
    package var emails: [String]
    package var phones: [Phone]

    package init(emails: [String] = [], phones: [Phone] = []) {
        self.emails = emails
        self.phones = phones
    }

    /// Checks every address and number, and returns the contacts with duplicates removed.
    ///
    /// - Throws: ``CredentialError/invalidArgument(field:reason:message:)`` naming the first
    ///   entry that is not a plausible e-mail address or phone number.
    package func validated() throws(CredentialError) -> Contacts {
        guard emails.count + phones.count <= Self.maximumEntries else {
            throw .invalidArgument(field: "contacts", reason: "TOO_MANY", message: "at most \(Self.maximumEntries) contacts")
        }
        for (index, email) in emails.enumerated() where !Self.isPlausibleEmail(email) {
            throw .invalidArgument(field: "contacts.emails[\(index)]", reason: "INVALID_EMAIL", message: "not an e-mail address")
        }
        for (index, phone) in phones.enumerated() where !Self.isPlausiblePhoneNumber(phone.number) {
            throw .invalidArgument(
                field: "contacts.phones[\(index)].number",
                reason: "INVALID_PHONE",
                message: "a phone number holds 7 to 15 digits, with an optional leading + and spaces, dots, dashes or parentheses"
            )
        }
        var seenEmails = Set<String>()
        var seenPhones = Set<Phone>()
        return Contacts(
            emails: emails.filter { seenEmails.insert($0.lowercased()).inserted },
            phones: phones.filter { seenPhones.insert($0).inserted }
        )
    }

    static let maximumEntries = 32

    private static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return email.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && email.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
    }

    private static func isPlausiblePhoneNumber(_ number: String) -> Bool {
        let digits = number.filter(\.isASCIIDigit)
        let punctuation = number.dropFirst(number.hasPrefix("+") ? 1 : 0).filter { !$0.isASCIIDigit }
        return (7...15).contains(digits.count) && punctuation.allSatisfy { " .-()".contains($0) }
    }
}

/// A phone number on file and what kind of line it is.
package struct Phone: Hashable, Codable, Sendable {
    package var number: String
    package var type: PhoneType

    package init(number: String, type: PhoneType) {
        self.number = number
        self.type = type
    }
}

/// The kinds of phone line a case system records.
package enum PhoneType: String, CaseIterable, Codable, Sendable {
    case cell = "CELL"
    case main = "MAIN"
    case message = "MESSAGE"
    case home = "HOME"
    case work = "WORK"
    case fax = "FAX"
    case tdd = "TDD"
    case tollFree = "TOLL_FREE"

    /// Whether a text message may be sent to a line of this kind: never to fax, TDD or toll-free lines.
    package var acceptsTextMessages: Bool {
        switch self {
        case .cell, .main, .message, .home, .work: true
        case .fax, .tdd, .tollFree: false
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
