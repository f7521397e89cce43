//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The facts on file that confirm a person who forgot their password (procedure 000): an
/// identity document; or else their place of birth and each child's name and date of birth.
///
/// They are verified like secrets. Each one is brought to one canonical form
/// (``canonical(_:)``), so that the same fact said another way still matches; then it is
/// peppered and hashed. A fact is never stored, logged or audited in clear.
package struct IdentityFacts: Equatable, Sendable {
    package var identityDocument: IdentityDocument?
    package var placeOfBirth: PlaceOfBirth?
    /// Every child, in any order; given as a whole, compared as a whole.
    package var children: [Child]?

    package init(identityDocument: IdentityDocument? = nil, placeOfBirth: PlaceOfBirth? = nil, children: [Child]? = nil) {
        self.identityDocument = identityDocument
        self.placeOfBirth = placeOfBirth
        self.children = children
    }

    /// The kinds of fact given.
    package var kinds: [FactKind] {
        [identityDocument.map { _ in FactKind.identityDocument }, placeOfBirth.map { _ in .placeOfBirth }, children.map { _ in .children }]
            .compactMap(\.self)
    }

    /// The canonical form of each fact given, in which it is hashed.
    package func canonicalForms() throws(CredentialError) -> [(kind: FactKind, canonical: String)] {
        var forms: [(FactKind, String)] = []
        if let identityDocument { forms.append((.identityDocument, try identityDocument.canonical())) }
        if let placeOfBirth { forms.append((.placeOfBirth, try placeOfBirth.canonical())) }
        if let children {
            guard !children.isEmpty else {
                throw .invalidArgument(field: "children", reason: "EMPTY", message: "children lists at least one child; remove the fact instead")
            }
            var canonical: [String] = []
            for (index, child) in children.enumerated() { canonical.append(try child.canonical(field: "children[\(index)]")) }
            // Compared as a whole, in any order.
            forms.append((.children, canonical.sorted().joined(separator: "\n")))
        }
        return forms
    }
}

/// The kinds of fact on file.
package enum FactKind: String, CaseIterable, Sendable {
    case identityDocument = "IDENTITY_DOCUMENT"
    case placeOfBirth = "PLACE_OF_BIRTH"
    case children = "CHILDREN"

    /// Its name in the audit trail ("verified: identity document").
    package var auditName: String {
        switch self {
        case .identityDocument: "identity document"
        case .placeOfBirth: "place of birth"
        case .children: "children's names and dates of birth"
        }
    }
}

/// A government-issued identity document.
package struct IdentityDocument: Equatable, Sendable {
    package enum Kind: String, CaseIterable, Sendable {
        case driversLicense = "DRIVERS_LICENSE"
        case stateID = "STATE_ID"
        case passport = "PASSPORT"
        case other = "OTHER"
    }

    package var kind: Kind
    package var number: String
    /// The issuing state or country, as its code or name (`AZ`, `Arizona`, `MX`).
    package var issuer: String

    package init(kind: Kind, number: String, issuer: String) {
        self.kind = kind
        self.number = number
        self.issuer = issuer
    }

    /// `KIND|NUMBER|ISSUER`: the number's letters and digits only, folded (`d 123-456.78` is
    /// `d12345678`); the issuer as words.
    func canonical() throws(CredentialError) -> String {
        let number = FactText.alphanumerics(self.number)
        guard (4...32).contains(number.count) else {
            throw .invalidArgument(field: "identityDocument.number", reason: "INVALID_VALUE", message: "identityDocument.number has 4 to 32 letters or digits")
        }
        let issuer = FactText.words(self.issuer)
        guard !issuer.isEmpty else {
            throw .invalidArgument(field: "identityDocument.issuer", reason: "EMPTY", message: "identityDocument.issuer names the issuing state or country")
        }
        return "\(kind.rawValue)|\(number)|\(issuer)"
    }
}

/// Where a person was born: a city, and its state or country.
package struct PlaceOfBirth: Equatable, Sendable {
    package var city: String
    package var state: String

    package init(city: String, state: String) {
        self.city = city
        self.state = state
    }

    /// `CITY|STATE` as words (`St. Louis` is `st louis`).
    func canonical() throws(CredentialError) -> String {
        let city = FactText.words(self.city)
        let state = FactText.words(self.state)
        guard !city.isEmpty else { throw .invalidArgument(field: "placeOfBirth.city", reason: "EMPTY", message: "placeOfBirth.city is required") }
        guard !state.isEmpty else { throw .invalidArgument(field: "placeOfBirth.state", reason: "EMPTY", message: "placeOfBirth.state is required") }
        return "\(city)|\(state)"
    }
}

/// A child's full name and date of birth.
package struct Child: Equatable, Sendable {
    package var fullName: String
    /// `YYYY-MM-DD`, `MM/DD/YYYY` or `YYYYMMDD`.
    package var dateOfBirth: String

    package init(fullName: String, dateOfBirth: String) {
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
    }

    /// `name words sorted|YYYY-MM-DD`: the words of the name, case- and accent-folded, in any
    /// order. So the family name may come first or last, with or without a comma, and a family
    /// name of several words (`Van Buren`, `García López`, `Smith-Jones`) matches however the
    /// person orders the words: `Mary Ann Van Buren` is `Van Buren, Mary Ann`.
    func canonical(field: String) throws(CredentialError) -> String {
        let words = FactText.words(fullName).split(separator: " ")
        guard words.count >= 2 else {
            throw .invalidArgument(field: "\(field).fullName", reason: "INVALID_VALUE", message: "\(field).fullName has a given name and a family name")
        }
        guard let date = FactText.isoDate(dateOfBirth) else {
            throw .invalidArgument(
                field: "\(field).dateOfBirth", reason: "INVALID_VALUE", message: "\(field).dateOfBirth is a real date: YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD"
            )
        }
        return "\(words.sorted().joined(separator: " "))|\(date)"
    }
}

/// The text rules every fact shares.
enum FactText {
    /// Compatibility normalisation (NFKC), then case folding and accent folding: `José` is
    /// `jose`, `STRAßE` is `strasse`.
    static func folded(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .precomposedStringWithCompatibilityMapping
    }

    /// Letters and digits only, folded.
    static func alphanumerics(_ text: String) -> String {
        String(String.UnicodeScalarView(folded(text).unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }))
    }

    /// Words of letters and digits, folded, one space between them: punctuation becomes a space
    /// (`Winston-Salem` is `winston salem`), apostrophes vanish (`O'Brien` is `obrien`).
    static func words(_ text: String) -> String {
        let normalized = folded(text).replacingOccurrences(of: "'", with: "")
            .replacingOccurrences(of: "\u{2019}", with: "")
        let separated = String(String.UnicodeScalarView(normalized.unicodeScalars.map {
            CharacterSet.alphanumerics.contains($0) ? $0 : " "
        }))
        return separated.split(separator: " ").joined(separator: " ")
    }

    /// A date of birth as `YYYY-MM-DD`, from `YYYY-MM-DD`, `MM/DD/YYYY` (month first, as the
    /// agencies write it) or `YYYYMMDD`, with one or two digits for a month or a day; `nil` for
    /// anything else, or a date that is not real or not between 1900 and 2199.
    static func isoDate(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "/") }) else { return nil }
        let parts: [Int]
        switch (trimmed.split(separator: "-", omittingEmptySubsequences: false), trimmed.split(separator: "/", omittingEmptySubsequences: false)) {
        case let (iso, _) where iso.count == 3 && iso[0].count == 4 && (1...2).contains(iso[1].count) && (1...2).contains(iso[2].count):
            parts = iso.compactMap { Int($0) }
        case let (_, us) where us.count == 3 && us[2].count == 4 && (1...2).contains(us[0].count) && (1...2).contains(us[1].count):
            parts = [us[2], us[0], us[1]].compactMap { Int($0) }
        case let (compact, _) where compact.count == 1 && trimmed.count == 8:
            let number = Int(trimmed) ?? 0
            parts = [number / 10_000, number / 100 % 100, number % 100]
        default:
            parts = []
        }
        guard parts.count == 3, (1900...2199).contains(parts[0]), (1...12).contains(parts[1]) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == parts[2] else { return nil }
        return String(format: "%04d-%02d-%02d", parts[0], parts[1], parts[2])
    }
}
