//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

extension CredentialService {
    /// Generates the phone system's PIN: drawn by OpenSSL's random generator, never chosen by a
    /// person, never one repeated digit or a straight run. Generating again replaces the old PIN.
    ///
    /// A NOT_SET_UP subject becomes ACTIVE: the IVR PIN may be their only secret (procedure 001),
    /// and it then verifies, counts failures and blocks like any other. A DEFAULTS_APPLIED
    /// subject stays so: the person refused, and nothing verifies until details are set.
    ///
    /// - Returns: the PIN, which leaves the service this once, and the time it was set.
    package func generateIVRPIN(for id: SubjectID, context: CallContext) async throws -> (pin: String, updatedAt: Date) {
        guard let subject = try await store.subject(id) else { throw CredentialError.notFound(id) }
        guard subject.state != .blocked else { throw CredentialError.blockedSubject }
        let pin = Self.drawIVRPIN(length: configuration.ivrPINLength)
        let hash = try await hashing.run { [hasher] in try hasher.hash(pin) }
        let time = now()
        let replaced = subject.credentials.ivrPinHash != nil
        let audit = draft(.generateIVRPIN, "OK", subject: id, context: context, facts: [replaced ? "IVR PIN replaced" : "IVR PIN generated"])
        try await store.modify(id) { subject in
            guard subject.state != .blocked else { throw CredentialError.blockedSubject }
            subject.credentials.ivrPinHash = hash
            subject.credentials.ivrPinUpdatedAt = time
            if subject.state == .notSetUp { subject.state = .active }
            subject.updatedAt = time
            return SubjectModification((), audit: [audit])
        }
        log("IVR PIN generated", subject: id, context: context)
        return (pin, time)
    }

    /// Checks an IVR PIN. It shares the three-strike lock with every other security check.
    package func verifyIVRPIN(_ id: SubjectID, pin: String, context: CallContext) async throws -> VerificationResult {
        try await check(id, [(.ivrPin, pin)], action: .verifyIVRPIN, context: context)
    }

    /// Draws digits until they are not a first guess; each draw is uniform over all strings.
    static func drawIVRPIN(length: Int) -> String {
        while true {
            let pin = SecureRandom.digits(count: length)
            let digits = Array(pin.utf8)
            if !DigitPatterns.isOneRepeatedDigit(digits), !DigitPatterns.isStraightRun(digits) { return pin }
        }
    }
}
