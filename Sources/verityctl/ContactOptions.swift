//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import VerityProtocol

/// The contacts on file, as command-line options: where codes and letters may go.
struct ContactOptions: ParsableArguments {
    @Option(help: "An e-mail address on file (repeatable).") var email: [String] = []
    @Option(help: "A phone on file as NUMBER=TYPE, TYPE one of CELL, MAIN, MESSAGE, HOME, WORK, FAX, TDD, TOLL_FREE (repeatable).")
    var phone: [String] = []
    @Option(help: """
        A postal address on file, its parts separated by semicolons: the lines, then the postal \
        code, then optionally a two-letter country, such as "Ms A. Person; 1 High Street; Leeds; \
        LS1 4AB; GB" (repeatable; letters go to the first).
        """)
    var address: [String] = []

    var isEmpty: Bool { email.isEmpty && phone.isEmpty && address.isEmpty }

    func message() throws -> ContactsMessage {
        let phones = try phone.map { entry -> PhoneMessage in
            guard let separator = entry.lastIndex(of: "=") else { throw ValidationError("--phone takes NUMBER=TYPE, such as 602-555-0100=CELL") }
            return PhoneMessage(number: String(entry[..<separator]), type: PhoneTypeName(rawValue: String(entry[entry.index(after: separator)...])))
        }
        return ContactsMessage(emails: email, phones: phones, postalAddresses: try address.map(Self.postalAddress))
    }

    private static func postalAddress(_ entry: String) throws -> PostalAddressMessage {
        var parts = entry.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.contains(where: \.isEmpty) else {
            throw ValidationError("--address has an empty part: \"\(entry)\"; separate the lines, the postal code and the country by single semicolons")
        }
        let country = parts.count > 2 && parts.last.map(isCountryCode) == true ? parts.removeLast() : nil
        guard parts.count >= 2, let postalCode = parts.popLast() else {
            throw ValidationError("--address takes LINE; ...; POSTAL CODE[; COUNTRY], such as \"1 High Street; Leeds; LS1 4AB; GB\"")
        }
        return PostalAddressMessage(lines: parts, postalCode: postalCode, country: country)
    }

    private static func isCountryCode(_ part: String) -> Bool {
        part.utf8.count == 2 && part.utf8.allSatisfy { (65...90).contains($0) }
    }
}
