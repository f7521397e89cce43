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

@Suite("Secrets leave no trace")
struct SecretHygieneTests {
    /// Secrets used nowhere else in the tests, so a hit can only come from this run.
    static let pin = "8316492"
    static let newPin = "5073918"
    static let wrongPin = "6150283"
    static let password = "Quokka Lantern 4417"
    static let newPassword = "Velvet Harbour 9023"
    static let wrongPassword = "Mango Circuit 7781"
    static let acceptedPin = "6150392"
    static let acceptedPassword = "Amber Falcon 2718"
    static let secrets = [pin, newPin, wrongPin, password, newPassword, wrongPassword, acceptedPin, acceptedPassword]

    @Test func noSecretReachesTheDatabaseTheLogsOrTheAuditTrail() async throws {
        let fixture = try ServiceFixture()
        let service = fixture.service
        let id = try await fixture.activeClient("hygiene-1", pin: Self.pin, password: Self.password)
        _ = try await service.verify(id, SecurityFactors(pin: Self.pin, password: Self.password), channel: .portal, context: .verifier)
        _ = try await service.verify(id, SecurityFactors(pin: Self.wrongPin, password: Self.wrongPassword), channel: .phone, context: .verifier)
        _ = try await service.change(
            id, current: SecurityFactors(pin: Self.pin, password: Self.password), new: SecurityFactors(pin: Self.newPin, password: Self.newPassword),
            context: .verifier
        )
        await #expect(throws: CredentialError.self) {
            try await service.setSecurityDetails(id, SecurityFactors(pin: Self.newPin, password: "x\(Self.newPin)yz"), context: .agent)
        }
        for _ in 0..<3 { _ = try await service.verify(id, SecurityFactors(pin: Self.wrongPin), channel: .phone, context: .verifier) }
        _ = try await service.unblock(id, reason: "verified at the counter", context: .admin)
        let ivrPIN = try await service.generateIVRPIN(for: id, context: .agent).pin
        _ = try await service.verifyIVRPIN(id, pin: ivrPIN, context: .agent)
        // New details set by accepting a change request (procedure 002), confirmed by letter.
        let requester = try await fixture.activeClient("hygiene-2", pin: Self.pin)
        let address = PostalAddress(lines: ["A. Person", "1 High Street"], postalCode: "LS1 4AB")
        try await service.updateContacts(requester, to: Contacts(postalAddresses: [address]), context: .agent)
        let request = try await service.raiseChangeRequest(for: requester, source: .selfService, reason: .clientRequest, reportedBy: "A. Person", context: .agent)
        _ = try await service.acceptChangeRequest(
            request.id, of: requester, newDetails: SecurityFactors(pin: Self.acceptedPin, password: Self.acceptedPassword), confirmBySMS: false, context: .agent
        )
        await #expect(throws: CredentialError.self) {
            try await service.verify(try SubjectID("ghost"), SecurityFactors(pin: Self.pin), channel: .phone, context: .verifier)
        }

        #expect(fixture.logs.count > 5)
        let audit = try await service.auditEvents(limit: 1000).map { event in
            ([event.caller, event.role, event.actor ?? "", event.method, event.outcome] + event.facts).joined(separator: " ")
        }.joined(separator: "\n")
        #expect(audit.contains("checked: PIN"))
        #expect(!audit.contains("$hmac-sha256"), "the audit trail holds no hash of a secret")

        let files = try fixture.directory.allFileContents()
        #expect(files.map(\.name).contains("verity.sqlite-wal"))
        let places = [("the logs", fixture.logs.text), ("the audit trail", audit)]
            + files.map { ($0.name, String(decoding: $0.bytes, as: UTF8.self)) }
        for (place, text) in places {
            let searchable = Self.squashed(text)
            for (index, secret) in (Self.secrets + [ivrPIN]).enumerated() {
                // We compute the answer first so that a failure names the place, not the text.
                let leaked = searchable.contains(Self.squashed(secret))
                #expect(!leaked, "test secret #\(index) reached \(place)")
            }
        }
    }

    /// Lower case without spacing, so one search covers every case and spacing of a secret.
    static func squashed(_ text: String) -> String {
        text.lowercased().filter { !$0.isWhitespace }
    }
}
