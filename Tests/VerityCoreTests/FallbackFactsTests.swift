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
import VerityTestSupport

/// Procedure 000: the facts on file that confirm a person who forgot their password.
@Suite("Fallback identity facts")
struct FallbackFactsTests {
    static let document = IdentityDocument(kind: .driversLicense, number: "D0427-7719-35", issuer: "AZ")
    static let birthplace = PlaceOfBirth(city: "St. Louis", state: "Missouri")
    static let children = [Child(fullName: "Mary Ann Quillfeather", dateOfBirth: "2015-03-05"), Child(fullName: "Tobias Quillfeather", dateOfBirth: "2018-11-30")]

    // MARK: Normalisation

    static func canonical(_ facts: IdentityFacts) throws -> [String] {
        try facts.canonicalForms().map(\.canonical)
    }

    @Test func aDocumentNumberIsItsLettersAndDigits() throws {
        let said = IdentityDocument(kind: .driversLicense, number: " d042777 1935 ", issuer: " az ")
        #expect(try Self.canonical(IdentityFacts(identityDocument: said)) == Self.canonical(IdentityFacts(identityDocument: Self.document)))
        let otherKind = IdentityDocument(kind: .passport, number: Self.document.number, issuer: "AZ")
        #expect(try Self.canonical(IdentityFacts(identityDocument: otherKind)) != Self.canonical(IdentityFacts(identityDocument: Self.document)))
    }

    @Test func aPlaceIsItsWordsWithoutCaseOrPunctuation() throws {
        let said = PlaceOfBirth(city: "st louis", state: "MISSOURI ")
        #expect(try Self.canonical(IdentityFacts(placeOfBirth: said)) == Self.canonical(IdentityFacts(placeOfBirth: Self.birthplace)))
    }

    @Test(arguments: ["Ann Mary Quillfeather", "QUILLFEATHER, Mary Ann", "mary-ann   quillfeather", "Mary Ann Quillfeather.", "Mary Ann Quíllfeather"])
    func aChildsNameMatchesInAnyOrderOfGivenNames(_ name: String) throws {
        let said = [Child(fullName: name, dateOfBirth: "03/05/2015"), Child(fullName: "Tobias Quillfeather", dateOfBirth: "20181130")]
        // The children come in any order too.
        #expect(try Self.canonical(IdentityFacts(children: said.reversed())) == Self.canonical(IdentityFacts(children: Self.children)))
    }

    /// A family name of several words matches in either order of the name.
    @Test func aFamilyNameOfSeveralWordsMatchesEitherWay() throws {
        let first = IdentityFacts(children: [Child(fullName: "Mary Ann Van Buren", dateOfBirth: "2015-03-05")])
        let second = IdentityFacts(children: [Child(fullName: "Van Buren, Mary Ann", dateOfBirth: "2015-3-5")])
        #expect(try Self.canonical(first) == Self.canonical(second))
    }

    @Test func anotherFamilyNameOrDateIsAnotherChild() throws {
        let wrongFamily = [Child(fullName: "Mary Ann Featherquill", dateOfBirth: "2015-03-05"), Self.children[1]]
        let wrongDate = [Child(fullName: "Mary Ann Quillfeather", dateOfBirth: "2015-05-03"), Self.children[1]]
        for children in [wrongFamily, wrongDate] {
            #expect(try Self.canonical(IdentityFacts(children: children)) != Self.canonical(IdentityFacts(children: Self.children)))
        }
    }

    @Test(arguments: [
        (IdentityFacts(children: [Child(fullName: "Tobias Quillfeather", dateOfBirth: "2015-02-30")]), "children[0].dateOfBirth"),
        (IdentityFacts(children: [Child(fullName: "Tobias Quillfeather", dateOfBirth: "next spring")]), "children[0].dateOfBirth"),
        (IdentityFacts(children: [Child(fullName: "Tobias Quillfeather", dateOfBirth: "2015-03-05-12")]), "children[0].dateOfBirth"),
        (IdentityFacts(children: [Child(fullName: "Tobias Quillfeather", dateOfBirth: "2015-xx-03-05")]), "children[0].dateOfBirth"),
        (IdentityFacts(children: [Child(fullName: "Tobias Quillfeather", dateOfBirth: "15/03/2015")]), "children[0].dateOfBirth"),
        (IdentityFacts(children: [Child(fullName: "Tobias", dateOfBirth: "2015-02-03")]), "children[0].fullName"),
        (IdentityFacts(children: []), "children"),
        (IdentityFacts(identityDocument: IdentityDocument(kind: .passport, number: "--", issuer: "MX")), "identityDocument.number"),
        (IdentityFacts(identityDocument: IdentityDocument(kind: .passport, number: "X1234567", issuer: " . ")), "identityDocument.issuer"),
        (IdentityFacts(placeOfBirth: PlaceOfBirth(city: "", state: "AZ")), "placeOfBirth.city"),
    ])
    func aFactInABadFormatNamesItsField(_ facts: IdentityFacts, _ field: String) {
        #expect(throws: CredentialError.self) { try facts.canonicalForms() }
        do {
            _ = try facts.canonicalForms()
        } catch let CredentialError.invalidArgument(named, _, _) {
            #expect(named == field)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    // MARK: The check

    static func subject(_ fixture: ServiceFixture, facts: IdentityFacts) async throws -> SubjectID {
        let id = try await fixture.activeClient("facts-\(UInt32.random(in: 0...UInt32.max))", pin: "4829157", password: "Quiet Orchard 2291")
        _ = try await fixture.service.setFacts(id, facts, context: .agent)
        return id
    }

    @Test func theDocumentOnFileIsTheOneThatCounts() async throws {
        let fixture = try ServiceFixture()
        let id = try await Self.subject(fixture, facts: IdentityFacts(identityDocument: Self.document, placeOfBirth: Self.birthplace))
        let service = fixture.service
        await #expect(throws: CredentialError.invalidArgument(field: "identityDocument", reason: "REQUIRED", message: "the identity document on file must be confirmed")) {
            try await service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace), context: .agent)
        }
        let check = try await service.checkFacts(id, IdentityFacts(identityDocument: Self.document, placeOfBirth: PlaceOfBirth(city: "Nowhere", state: "XX")), context: .agent)
        #expect(check.result.outcome == .verified)
        #expect(check.checked == [.identityDocument], "facts beyond the document are not looked at")
        #expect(try await service.status(of: id).consecutiveFailures == 0)
        let audit = try await service.auditEvents(for: id).filter { $0.action == .checkFacts }
        #expect(audit.map(\.outcome) == ["VERIFIED"])
        #expect(audit.first?.facts == ["checked: identity document"])
    }

    @Test func withoutADocumentThePlaceOfBirthAndEveryChildAreNeeded() async throws {
        let fixture = try ServiceFixture()
        let id = try await Self.subject(fixture, facts: IdentityFacts(placeOfBirth: Self.birthplace, children: Self.children))
        let service = fixture.service
        await #expect(throws: CredentialError.self) {
            try await service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace), context: .agent)
        }
        #expect(try await service.status(of: id).consecutiveFailures == 0, "a check refused for a missing fact counts nothing")
        let oneChildShort = try await service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace, children: [Self.children[0]]), context: .agent)
        #expect(oneChildShort.result.outcome == .mismatch)
        #expect(oneChildShort.checked == [.placeOfBirth, .children])
        #expect(oneChildShort.matched.isEmpty, "a mismatch never says which fact was right")
        let all = try await service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace, children: Self.children), context: .agent)
        #expect(all.result.outcome == .verified)
        #expect(all.matched == [.placeOfBirth, .children])
        #expect(try await service.status(of: id).consecutiveFailures == 0, "a success clears the failure before it")
    }

    @Test func nothingOnFileIsAPreconditionNotAFailure() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient("facts-none")
        await #expect(throws: CredentialError.failedPrecondition(
            reason: "NO_FACTS_ON_FILE", message: "no identity document, place of birth or children are on file: ask for a copy of an identity document"
        )) {
            try await fixture.service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace), context: .agent)
        }
    }

    /// Wrong facts count towards the same lock as wrong PINs: two wrong PINs and one wrong fact block.
    @Test func wrongFactsShareTheLockWithWrongSecrets() async throws {
        let fixture = try ServiceFixture()
        let id = try await Self.subject(fixture, facts: IdentityFacts(identityDocument: Self.document))
        let service = fixture.service
        for _ in 0..<2 { _ = try await service.verify(id, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier) }
        let wrong = IdentityDocument(kind: .driversLicense, number: "D04277719", issuer: "AZ")
        let third = try await service.checkFacts(id, IdentityFacts(identityDocument: wrong), context: .agent)
        #expect(third.result == VerificationResult(.mismatch, attemptsRemaining: 0, lockedNow: true))
        let afterwards = try await service.checkFacts(id, IdentityFacts(identityDocument: Self.document), context: .agent)
        #expect(afterwards.result.outcome == .blocked)
        #expect(afterwards.checked.isEmpty, "a blocked subject's facts are not looked at")
    }

    @Test func removingAFactIsAnActOfItsOwn() async throws {
        let fixture = try ServiceFixture()
        let id = try await Self.subject(fixture, facts: IdentityFacts(identityDocument: Self.document, placeOfBirth: Self.birthplace))
        let service = fixture.service
        #expect(try await service.removeFacts(id, [.identityDocument], reason: "document expired", context: .agent) == [.placeOfBirth])
        await #expect(throws: CredentialError.failedPrecondition(reason: "FACT_NOT_ON_FILE", message: "no children's names and dates of birth is on file")) {
            try await service.removeFacts(id, [.children, .placeOfBirth], reason: "asked", context: .agent)
        }
        #expect(try await service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace), context: .agent).result.outcome == .verified)
        let removal = try await service.auditEvents(for: id).filter { $0.action == .removeFacts }
        #expect(removal.map(\.facts) == [["identity document removed", "reason: document expired"]])
    }

    // MARK: Removing the password

    @Test func removingThePasswordLeavesThePINOrNothing() async throws {
        let fixture = try ServiceFixture()
        let service = fixture.service
        let both = try await fixture.activeClient("remove-both", pin: "4829157", password: "Quiet Orchard 2291")
        #expect(try await service.removePassword(both, reason: "the client asked, after the fallback check", context: .agent) == .active)
        #expect(try await service.status(of: both).hasPassword == false)
        #expect(try await service.verify(both, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier).outcome == .verified)
        let passwordOnly = try await fixture.activeClient("remove-only", pin: nil, password: "Quiet Orchard 2291")
        #expect(try await service.removePassword(passwordOnly, reason: "the client asked", context: .agent) == .notSetUp)
        await #expect(throws: CredentialError.failedPrecondition(reason: "NO_PASSWORD", message: "the subject has no password")) {
            try await service.removePassword(passwordOnly, reason: "again", context: .agent)
        }
        await #expect(throws: CredentialError.invalidArgument(field: "reason", reason: "REQUIRED", message: "removing a password needs a reason, for the audit trail")) {
            try await service.removePassword(both, reason: "  ", context: .agent)
        }
        // A blocked subject is unblocked first: never into ACTIVE with no secret left.
        let blocked = try await fixture.activeClient("remove-blocked", pin: nil, password: "Quiet Orchard 2291")
        for _ in 0..<3 { _ = try await service.verify(blocked, SecurityFactors(password: "Wrong Orchard 1111"), channel: .portal, context: .verifier) }
        await #expect(throws: CredentialError.failedPrecondition(reason: "BLOCKED", message: "the subject is BLOCKED: unblock first")) {
            try await service.removePassword(blocked, reason: "asked", context: .agent)
        }
    }

    // MARK: No fact in clear

    @Test func noFactReachesTheDatabaseTheLogsOrTheAuditTrail() async throws {
        let fixture = try ServiceFixture()
        let service = fixture.service
        let id = try await Self.subject(fixture, facts: IdentityFacts(identityDocument: Self.document, placeOfBirth: Self.birthplace, children: Self.children))
        _ = try await service.checkFacts(id, IdentityFacts(identityDocument: Self.document), context: .agent)
        _ = try await service.checkFacts(id, IdentityFacts(identityDocument: IdentityDocument(kind: .driversLicense, number: "Z99887766", issuer: "AZ")), context: .agent)
        _ = try await service.removeFacts(id, [.identityDocument], reason: "expired", context: .agent)
        _ = try await service.checkFacts(id, IdentityFacts(placeOfBirth: Self.birthplace, children: Self.children), context: .agent)
        let audit = try await service.auditEvents(limit: 1000).map { ([$0.actor ?? "", $0.outcome] + $0.facts).joined(separator: " ") }.joined(separator: "\n")
        let places = [("the logs", fixture.logs.text), ("the audit trail", audit)]
            + (try fixture.directory.allFileContents()).map { ($0.name, String(decoding: $0.bytes, as: UTF8.self)) }
        let facts = ["D04277719", "Z99887766", "Quillfeather", "St. Louis", "st louis", "Missouri", "2015-03-05", "2018-11-30"]
        for (place, text) in places {
            let searchable = SecretHygieneTests.squashed(text)
            for (index, fact) in facts.enumerated() {
                let leaked = searchable.contains(SecretHygieneTests.squashed(fact))
                #expect(!leaked, "test fact #\(index) reached \(place)")
            }
        }
    }
}

@Suite("Fallback checks racing a change of the facts")
struct FallbackFactsRaceTests {
    /// A document set between the check's read and its reservation: the check was about to
    /// compare the place of birth, which the procedure no longer allows with a document on file.
    @Test func aDocumentAddedBeforeTheReservationMakesTheCheckCredentialsChanged() async throws {
        let fixture = try ServiceFixture()
        let id = try await FallbackFactsTests.subject(fixture, facts: IdentityFacts(placeOfBirth: FallbackFactsTests.birthplace))
        let store = InterposingStore(fixture.store)
        let racing = try CredentialService(store: store, hasher: fixture.hasher, keyring: fixture.hasher.keyring)
        let service = fixture.service
        store.afterRead = { _ = try await service.setFacts(id, IdentityFacts(identityDocument: FallbackFactsTests.document), context: .agent) }
        await #expect(throws: CredentialError.credentialsChanged) {
            try await racing.checkFacts(id, IdentityFacts(placeOfBirth: FallbackFactsTests.birthplace), context: .agent)
        }
        #expect(try await service.status(of: id).consecutiveFailures == 0, "nothing was counted")
    }
}
