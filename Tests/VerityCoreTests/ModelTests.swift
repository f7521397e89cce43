//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityCore

@Suite("Subject ids and contacts")
struct ModelTests {
    @Test(arguments: ["case-1234567/PWC", "a", "A.b_c:d/e-f", String(repeating: "x", count: 128)])
    func acceptsValidSubjectIDs(_ id: String) throws {
        #expect(try SubjectID(id).rawValue == id)
    }

    @Test(arguments: ["", "has space", "semi;colon", "ünïcode", String(repeating: "x", count: 129), "new\nline"])
    func refusesInvalidSubjectIDs(_ id: String) {
        #expect(throws: CredentialError.self) { try SubjectID(id) }
    }

    @Test func validatesAndDeduplicatesContacts() throws {
        let contacts = Contacts(
            emails: ["pat@example.org", "PAT@example.org"],
            phones: [Phone(number: "+1 (602) 555-0100", type: .cell), Phone(number: "+1 (602) 555-0100", type: .cell)]
        )
        let valid = try contacts.validated()
        #expect(valid.emails == ["pat@example.org"])
        #expect(valid.phones.count == 1)
    }

    @Test(arguments: [
        (Contacts(emails: ["not-an-address"]), "contacts.emails[0]"),
        (Contacts(emails: ["a@b.org", "a@nodot"]), "contacts.emails[1]"),
        (Contacts(phones: [Phone(number: "12345", type: .cell)]), "contacts.phones[0].number"),
        (Contacts(phones: [Phone(number: "555-CALL-NOW", type: .home)]), "contacts.phones[0].number"),
    ])
    func refusesImplausibleContacts(_ contacts: Contacts, field: String) {
        #expect {
            try contacts.validated()
        } throws: { error in
            guard case let .invalidArgument(actual, _, _) = error as? CredentialError else { return false }
            return actual == field
        }
    }

    @Test func textMessagesGoOnlyToEligibleLines() {
        let eligible = PhoneType.allCases.filter(\.acceptsTextMessages)
        #expect(Set(eligible) == [.cell, .main, .message, .home, .work])
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [0.0, 1_800_000_000.1835, 1_800_000_000.9996, 1_800_000_000.0004, 1_799_999_999.999])
    func aTimeReadsTheSameBeforeAndAfterStorage(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let stored = Timestamp.date(milliseconds: Timestamp.milliseconds(of: date))
        #expect(Timestamp.string(from: date) == Timestamp.string(from: stored))
        #expect(Timestamp.date(from: Timestamp.string(from: date)).map(Timestamp.milliseconds(of:)) == Timestamp.milliseconds(of: date))
    }

    @Test func theFormatIsRFC3339WithMilliseconds() {
        #expect(Timestamp.string(from: Date(timeIntervalSince1970: 1_795_363_469.123)) == "2026-11-22T16:04:29.123Z")
        #expect(Timestamp.string(from: Date(timeIntervalSince1970: 1_795_363_469.9996)) == "2026-11-22T16:04:30.000Z")
    }

    /// The hand-written format agrees with Foundation's ISO 8601 format on every kind of day:
    /// leap days, year and century ends, before 1970, far ahead.
    @Test func theFormatAgreesWithFoundationsOnEveryKindOfDay() {
        // Whole seconds from Foundation, the milliseconds from the integer count, as before.
        let seconds = Date.ISO8601FormatStyle(timeZone: .gmt)
        func reference(_ milliseconds: Int64) -> String {
            let whole = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
            let text = Date(timeIntervalSince1970: TimeInterval(whole)).formatted(seconds)
            return "\(text.dropLast())." + String(format: "%03d", milliseconds - whole * 1000) + "Z"
        }
        var generator = SystemRandomNumberGenerator()
        let chosen: [Int64] = [0, -1, -86_400_000, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 253_402_300_799_999, -2_208_988_800_000]
        let random = (0..<5000).map { _ in Int64.random(in: -2_208_988_800_000...253_402_300_799_999, using: &generator) }
        for milliseconds in chosen + random {
            let date = Timestamp.date(milliseconds: milliseconds)
            #expect(Timestamp.string(from: date) == reference(milliseconds), "\(milliseconds)")
        }
    }
}

@Suite("Service configuration")
struct ServiceConfigurationTests {
    @Test(arguments: ["attemptLimit", "ivrPINLength", "codeLength", "codeLifetime", "codeAttemptLimit", "codesPerWindow", "codeRateWindow", "longestCheck"])
    func aSettingThatBreaksARuleIsRefused(setting: String) throws {
        var configuration = CredentialService.Configuration()
        #expect(throws: Never.self) { try configuration.validate() }
        switch setting {
        case "attemptLimit": configuration.attemptLimit = 0
        case "ivrPINLength": configuration.ivrPINLength = 13
        case "codeLength": configuration.codeLength = 5
        case "codeLifetime": configuration.codeLifetime = 0
        case "codeAttemptLimit": configuration.codeAttemptLimit = 0
        case "codesPerWindow": configuration.codesPerWindow = 0
        case "codeRateWindow": configuration.codeRateWindow = -1
        default: configuration.longestCheck = 0
        }
        #expect { try configuration.validate() } throws: { ($0 as? InvalidConfigurationError)?.setting == setting }
    }
}

@Suite("Text for logs")
struct LogTextTests {
    @Test func controlCharactersAreEscapedAndLongTextIsCut() {
        #expect(LogText.sanitized("a\nb\u{1B}[2J\u{2028}c") == #"a\nb\u{1B}[2J\u{2028}c"#)
        #expect(LogText.sanitized(String(repeating: "m", count: 500)) == String(repeating: "m", count: 128) + "…")
        #expect(LogText.sanitized("verity.v1.Health/Check") == "verity.v1.Health/Check")
    }
}
