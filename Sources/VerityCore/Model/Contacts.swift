//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The e-mail addresses, phone numbers and postal addresses on file for a subject: the only
/// places one-time codes and letters may be sent.
package struct Contacts: Equatable, Codable, Sendable {
    package var emails: [String]
    package var phones: [Phone]
    /// Where letters go; the first is the one letters use.
    package var postalAddresses: [PostalAddress]

    package init(emails: [String] = [], phones: [Phone] = [], postalAddresses: [PostalAddress] = []) {
        self.emails = emails
        self.phones = phones
        self.postalAddresses = postalAddresses
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        emails = try container.decode([String].self, forKey: .emails)
        phones = try container.decode([Phone].self, forKey: .phones)
        // Stored before postal addresses existed (migration v8).
        postalAddresses = try container.decodeIfPresent([PostalAddress].self, forKey: .postalAddresses) ?? []
    }

    /// Checks every address and number, and returns the contacts with duplicates removed.
    ///
    /// - Throws: ``CredentialError/invalidArgument(field:reason:message:)`` naming the first
    ///   entry that is not a plausible e-mail address or phone number.
    package func validated() throws(CredentialError) -> Contacts {
        guard emails.count + phones.count + postalAddresses.count <= Self.maximumEntries else {
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
        for (index, address) in postalAddresses.enumerated() {
            try address.validate(field: "contacts.postalAddresses[\(index)]")
        }
        var seenEmails = Set<String>()
        var seenPhones = Set<Phone>()
        var seenAddresses = Set<PostalAddress>()
        return Contacts(
            emails: emails.filter { seenEmails.insert($0.lowercased()).inserted },
            phones: phones.filter { seenPhones.insert($0).inserted },
            postalAddresses: postalAddresses.filter { seenAddresses.insert($0).inserted }
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

/// A postal address on file, as the agency's letter system prints it.
package struct PostalAddress: Hashable, Codable, Sendable {
    /// The lines above the postal code: the addressee, the street, the town.
    package var lines: [String]
    package var postalCode: String
    /// ISO 3166-1 alpha-2, such as `GB`; `nil` for the agency's own country.
    package var country: String?

    package init(lines: [String], postalCode: String, country: String? = nil) {
        self.lines = lines
        self.postalCode = postalCode
        self.country = country
    }

    /// The address as a letter's destination: its lines, the postal code and the country, one
    /// to a line, separated by line feeds.
    package var destination: String {
        (lines + [postalCode] + (country.map { [$0] } ?? [])).joined(separator: "\n")
    }

    static let maximumLines = 6
    static let maximumLineLength = 100
    /// The longest destination, in bytes of its JSON string: a letter's delivery then stays within
    /// the 1 KiB a `Notifications/Lease` counts for each.
    static let maximumDestinationBytes = 512

    func validate(field: String) throws(CredentialError) {
        guard (1...Self.maximumLines).contains(lines.count) else {
            throw .invalidArgument(field: "\(field).lines", reason: "INVALID_VALUE", message: "an address has 1 to \(Self.maximumLines) lines")
        }
        for (index, line) in lines.enumerated() where !Self.isPrintableLine(line, maximumLength: Self.maximumLineLength) {
            throw .invalidArgument(
                field: "\(field).lines[\(index)]", reason: "INVALID_VALUE",
                message: "an address line holds 1 to \(Self.maximumLineLength) characters, none of them a control or format character"
            )
        }
        let postalCodeCharacters = postalCode.unicodeScalars.allSatisfy { $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || $0 == " " || $0 == "-" }
        guard (2...12).contains(postalCode.unicodeScalars.count), postalCodeCharacters, postalCode.trimmingCharacters(in: .whitespaces) == postalCode else {
            throw .invalidArgument(field: "\(field).postalCode", reason: "INVALID_VALUE", message: "a postal code is 2 to 12 letters, digits, spaces or dashes")
        }
        if let country, !(country.utf8.count == 2 && country.utf8.allSatisfy { (65...90).contains($0) }) {
            throw .invalidArgument(field: "\(field).country", reason: "INVALID_VALUE", message: "a country is two upper-case letters (ISO 3166-1 alpha-2)")
        }
        guard let encoded = try? JSONEncoder().encode(destination), encoded.count <= Self.maximumDestinationBytes else {
            throw .invalidArgument(field: field, reason: "TOO_LONG", message: "an address takes at most \(Self.maximumDestinationBytes) bytes as a JSON string")
        }
    }

    private static func isPrintableLine(_ line: String, maximumLength: Int) -> Bool {
        let hidden: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return !trimmed.isEmpty && line.unicodeScalars.count <= maximumLength
            && !line.unicodeScalars.contains { hidden.contains($0.properties.generalCategory) }
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
