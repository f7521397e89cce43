//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

/// The self-service portal's secrets (procedure 001): registration started by a caseworker with
/// an e-mailed single-use token, and a password reset granted by a verified e-mailed code.
extension CredentialService {
    /// Starts portal registration: a registration e-mail, with a single-use token, to the first
    /// e-mail address on file. A token sent before for the subject stops working.
    package func startPortalRegistration(for id: SubjectID, context: CallContext) async throws -> StartedRegistration {
        guard let subject = try await store.subject(id) else { throw CredentialError.notFound(id) }
        guard subject.state != .blocked else { throw CredentialError.blockedSubject }
        guard let address = subject.contacts.emails.first else {
            throw CredentialError.failedPrecondition(reason: "NO_EMAIL", message: "portal registration goes by e-mail: put an e-mail address on file first")
        }
        let time = now()
        let expiresAt = time.addingTimeInterval(configuration.registrationTokenLifetime)
        let (tokenID, secret) = (Self.randomID(), Self.tokenSecret())
        let keyID = keyring.currentKeyID
        let token = RegistrationToken(
            id: tokenID, subjectID: id, secretMAC: try tokenMAC(id: tokenID, secret: secret, keyID: keyID), pepperKeyID: keyID,
            createdAt: time, expiresAt: expiresAt, destinationKey: try destinationKey(address, channel: .email, keyID: keyID)
        )
        let content = DeliveryContent(
            destination: address, template: Self.registrationTemplate,
            variables: ["token": "\(tokenID).\(secret)", "subjectId": id.rawValue, "expiresAt": Timestamp.string(from: expiresAt)]
        )
        let masked = Self.mask(address, channel: .email)
        let delivery = try sealedDelivery(content, channel: .email, challengeID: tokenID, createdAt: time, expiresAt: expiresAt)
        let audit = draft(.startPortalRegistration, "OK", subject: id, context: context, facts: ["sent by EMAIL to \(masked)", "expires \(Timestamp.string(from: expiresAt))"])
        try await store.insertRegistrationToken(token, delivery: delivery, audit: audit)
        log("portal registration started", subject: id, context: context)
        return StartedRegistration(subjectID: id, maskedDestination: masked, expiresAt: expiresAt)
    }

    /// Redeems a registration token: sets the portal password (under the password policy) and
    /// records the registration. A token works once: of parallel redemptions, one succeeds.
    ///
    /// The token is checked before the password is hashed, so that made-up tokens cost no
    /// hashing, and again in the transaction that uses it.
    package func completePortalRegistration(token: String, password: String, context: CallContext) async throws -> (subject: SubjectID, state: SubjectState) {
        let (tokenID, secret) = try Self.tokenParts(token)
        let details = SecurityFactors(password: password)
        try checkPolicies(details)
        guard var preview = try await store.registrationToken(tokenID) else { throw Self.unknownToken }
        try checkSecret(secret, of: preview)
        try preview.redeem(at: now())
        if let person = try await store.subject(preview.subjectID) { try checkRegistrable(person, with: preview) }
        let hashes = try await hash(details)
        let time = now()
        let redeemed = try await store.redeemRegistrationToken(tokenID) { [self] stored, subject in
            try checkSecret(secret, of: stored)
            try stored.redeem(at: time)
            try checkRegistrable(subject, with: stored)
            hashes.apply(to: &subject.credentials)
            // The first secret set makes a person ACTIVE; a failure count is never cleared here.
            if subject.state != .active { subject.state = .active }
            subject.updatedAt = time
            let audit = [
                draft(.completePortalRegistration, "OK", subject: subject.id, context: context),
                draft(.setSecurityDetails, "OK", subject: subject.id, context: context, facts: ["password set"]),
            ]
            return WorkflowWrite((subject.id, subject.state), audit: audit)
        }
        guard let redeemed else { throw Self.unknownToken }
        log("portal registration completed", subject: redeemed.0, context: context)
        return redeemed
    }

    /// Sets a new portal password on the grant of a PASSWORD_RESET code of the same subject, sent
    /// by e-mail and verified: one change, within ``Configuration/codeGrantWindow`` of the
    /// verification. The person must have a password already: a reset registers no one.
    package func resetPortalPassword(_ id: SubjectID, challenge challengeID: String, newPassword: String, context: CallContext) async throws -> SubjectState {
        let details = SecurityFactors(password: newPassword)
        try checkPolicies(details, fieldPrefix: "new")
        let window = configuration.codeGrantWindow
        guard var preview = try await store.codeChallenge(challengeID, subjectID: id, purpose: .passwordReset) else { throw Self.unknownResetChallenge }
        try Self.checkResetGrant(&preview, within: window, at: now())
        if let person = try await store.subject(id) { try Self.checkResettable(person) }
        let hashes = try await hash(details)
        let time = now()
        let state = try await store.redeemCode(challengeID, subjectID: id, purpose: .passwordReset) { [self] challenge, subject in
            try Self.checkResetGrant(&challenge, within: window, at: time)
            try Self.checkResettable(subject)
            hashes.apply(to: &subject.credentials)
            subject.updatedAt = time
            let audit = draft(.resetPassword, "OK", subject: id, context: context, facts: ["password set", "grant: challenge \(challengeID)"])
            return WorkflowWrite(subject.state, audit: [audit])
        }
        guard let state else { throw Self.unknownResetChallenge }
        log("portal password reset", level: .notice, subject: id, context: context)
        return state
    }

    /// The template of the registration e-mail.
    package static let registrationTemplate = "PORTAL_REGISTRATION"

    private static let unknownToken = CredentialError.missing(field: "token", message: "no registration token matches")
    private static let unknownResetChallenge = CredentialError.missing(field: "challengeId", message: "no PASSWORD_RESET challenge with this id for this subject")

    /// A wrong secret answers as an unknown token: the id alone reveals nothing.
    private func checkSecret(_ secret: String, of token: RegistrationToken) throws {
        let expected = try tokenMAC(id: token.id, secret: secret, keyID: token.pepperKeyID)
        guard ConstantTime.equals(Array(expected.utf8), Array(token.secretMAC.utf8)) else { throw Self.unknownToken }
    }

    /// A token is redeemed only for a person not blocked, while the address it went to is on file.
    /// Checked before hashing and again in the transaction: a refused token costs no hashing.
    private func checkRegistrable(_ person: Subject, with token: RegistrationToken) throws {
        guard try person.contacts.emails.contains(where: { try destinationKey($0, channel: .email, keyID: token.pepperKeyID) == token.destinationKey }) else {
            throw CredentialError.failedPrecondition(reason: "TOKEN_REPLACED", message: "the e-mail address the token was sent to is no longer on file")
        }
        guard person.state != .blocked else { throw CredentialError.blockedSubject }
    }

    /// A reset is for a person not blocked who has a password to reset.
    private static func checkResettable(_ person: Subject) throws(CredentialError) {
        guard person.state != .blocked else { throw CredentialError.blockedSubject }
        guard person.credentials.passwordHash != nil else {
            throw .failedPrecondition(reason: "NO_PASSWORD", message: "the person has no portal password to reset: a caseworker starts their registration")
        }
    }

    /// Uses a PASSWORD_RESET code's grant: it must have gone by e-mail (procedure 001).
    private static func checkResetGrant(_ challenge: inout CodeChallenge, within window: TimeInterval, at time: Date) throws(CredentialError) {
        guard challenge.channel == .email else {
            throw .failedPrecondition(reason: "CODE_NOT_BY_EMAIL", message: "a password reset is granted by a code sent to the e-mail address on file")
        }
        try challenge.redeem(within: window, at: time)
    }

    /// 256 random bits, base64url without padding: 43 characters.
    private static func tokenSecret() -> String {
        Data(SecureRandom.bytes(count: 32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The id and the secret of a token `ID.SECRET`, or INVALID_ARGUMENT.
    private static func tokenParts(_ token: String) throws(CredentialError) -> (id: String, secret: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".unicodeScalars)
        guard parts.count == 2, parts[0].utf8.count == 32, parts[0].utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              parts[1].unicodeScalars.count == 43, parts[1].unicodeScalars.allSatisfy(base64url.contains) else {
            throw .invalidArgument(field: "token", reason: "INVALID_VALUE", message: "a registration token is 32 hexadecimal digits, a dot and 43 base64url characters, as the e-mail gave it")
        }
        return (parts[0], parts[1])
    }

    private func tokenMAC(id: String, secret: String, keyID: String) throws -> String {
        try keyedMAC("\(id)|\(secret)", use: .portalToken, keyID: keyID)
    }
}

/// The answer to starting portal registration: never the token.
package struct StartedRegistration: Equatable, Sendable {
    package var subjectID: SubjectID
    package var maskedDestination: String
    package var expiresAt: Date
}
