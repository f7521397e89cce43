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
    /// Sends a one-time code to a contact on file, through the notification outbox.
    ///
    /// The code goes only to an e-mail address on file, or by text to a phone on file whose line
    /// takes texts (CELL, MAIN, MESSAGE, HOME, WORK); never to an address in the request. It is
    /// stored as a MAC under the pepper, bound to its challenge and purpose; a new code for the
    /// same purpose replaces the old one; issuing is rate-limited per subject.
    ///
    /// - Parameter destination: picks one contact on file by its exact value; by default the first eligible.
    /// - Returns: the challenge id, the masked destination and the expiry; never the code.
    package func issueCode(
        to id: SubjectID,
        channel: CodeChannel,
        purpose: CodePurpose,
        destination: String? = nil,
        context: CallContext
    ) async throws -> IssuedCode {
        guard let subject = try await store.subject(id) else { throw CredentialError.notFound(id) }
        let address = try Self.destination(channel, chosen: destination, contacts: subject.contacts)
        let time = now()
        let expiresAt = time.addingTimeInterval(configuration.codeLifetime)
        let code = SecureRandom.digits(count: configuration.codeLength)
        let challengeID = Self.randomID()
        let keyID = keyring.currentKeyID
        let masked = Self.mask(address, channel: channel)
        let challenge = CodeChallenge(
            id: challengeID, subjectID: id, purpose: purpose, channel: channel, maskedDestination: masked,
            destinationKey: try destinationKey(address, channel: channel, keyID: keyID),
            codeMAC: try codeMAC(code, challengeID: challengeID, purpose: purpose, keyID: keyID), pepperKeyID: keyID,
            createdAt: time, expiresAt: expiresAt
        )
        let content = DeliveryContent(
            destination: address, template: purpose.template,
            variables: ["code": code, "purpose": purpose.rawValue, "expiresAt": Timestamp.string(from: expiresAt)]
        )
        let delivery = try sealedDelivery(content, channel: DeliveryChannel(channel), challengeID: challengeID, createdAt: time, expiresAt: expiresAt)
        let audit = draft(.issueCode, "OK", subject: id, context: context, facts: ["purpose: \(purpose.rawValue)", "sent by \(channel.rawValue) to \(masked)"])
        let limit = CodeRateLimit(
            windowStart: time.addingTimeInterval(-configuration.codeRateWindow), maximum: configuration.codesPerWindow,
            maximumPerDestination: configuration.codesPerDestinationPerWindow
        )
        switch try await store.insertCode(challenge, delivery: delivery, audit: audit, rateLimit: limit) {
        case .issued:
            log("one-time code issued", subject: id, context: context, ["purpose": "\(purpose.rawValue)", "channel": "\(channel.rawValue)"])
            return IssuedCode(challengeID: challengeID, subjectID: id, purpose: purpose, maskedDestination: masked, expiresAt: expiresAt)
        case let .rateLimited(oldest):
            throw CredentialError.rateLimited(retryAfter: oldest.addingTimeInterval(configuration.codeRateWindow))
        case let .destinationRateLimited(oldest):
            throw CredentialError.destinationRateLimited(retryAfter: oldest.addingTimeInterval(configuration.codeRateWindow))
        }
    }

    /// Checks one try of a code, for the subject and purpose the caller's flow is about.
    ///
    /// A code is single use, valid until it expires, and allows ``Configuration/codeAttemptLimit``
    /// wrong tries. Each try is decided and recorded in one transaction, so a flood of parallel
    /// tries gets no more compared than that, and exactly one right try uses the code; the others
    /// answer ALREADY_USED. A challenge of another subject or purpose answers as an unknown one: a
    /// flow cannot be handed someone else's challenge. Code failures do not count towards the
    /// security-check lock.
    package func verifyCode(
        challenge id: String,
        code: String,
        subject subjectID: SubjectID,
        purpose: CodePurpose,
        context: CallContext
    ) async throws -> CodeVerificationResult {
        try SecurityFactors.checkNotBlank(code, field: "code")
        let (limit, time) = (configuration.codeAttemptLimit, now())
        let result = try await store.attemptCode(id, subjectID: subjectID, purpose: purpose) { [self] challenge in
            let keyID = challenge.pepperKeyID
            let stored = challenge.codeMAC
            let result = try challenge.attempt(limit: limit, now: time) {
                let expected = try codeMAC(code, challengeID: id, purpose: purpose, keyID: keyID)
                return ConstantTime.equals(Array(expected.utf8), Array(stored.utf8))
            }
            let compared = result.outcome == .verified || result.outcome == .mismatch
            let audit = draft(
                .verifyCode, result.outcome.rawValue, subject: subjectID, context: context,
                facts: ["purpose: \(purpose.rawValue)"] + (compared ? [] : ["not evaluated"])
            )
            return SubjectModification(result, audit: [audit])
        }
        guard let result else { throw CredentialError.missing(field: "challengeId", message: "no challenge with this id") }
        log("one-time code checked", subject: subjectID, context: context, ["result": "\(result.outcome.rawValue)"])
        return result
    }

    /// HMAC-SHA256 (hex) of `challenge id | purpose | code` under the code key derived from pepper key `keyID`.
    func codeMAC(_ code: String, challengeID: String, purpose: CodePurpose, keyID: String) throws -> String {
        try keyedMAC("\(challengeID)|\(purpose.rawValue)|\(code)", use: .oneTimeCode, keyID: keyID)
    }

    /// The keyed digest of a destination, normalised (an address in lower case, a phone's digits).
    func destinationKey(_ destination: String, channel: CodeChannel, keyID: String) throws -> String {
        let normalised = channel == .email ? destination.lowercased() : String(destination.filter(\.isASCIIDigit))
        return try keyedMAC("\(channel.rawValue)|\(normalised)", use: .codeDestination, keyID: keyID)
    }

    /// HMAC-SHA256 (hex) of `message` under the key of `use` derived from pepper key `keyID`;
    /// the message's bytes are wiped afterwards.
    func keyedMAC(_ message: String, use: KeyUse, keyID: String) throws -> String {
        guard var key = keyring.derivedKey(id: keyID, for: use) else { throw UnknownPepperKeyError(keyID: keyID) }
        defer { SecureMemory.cleanse(&key) }
        var bytes = Array(message.utf8)
        defer { SecureMemory.cleanse(&bytes) }
        return HMACSHA256.authenticate(bytes, key: key).map { String(format: "%02x", $0) }.joined()
    }

    static func destination(_ channel: CodeChannel, chosen: String?, contacts: Contacts) throws(CredentialError) -> String {
        let eligible: [String]
        switch channel {
        case .email:
            eligible = contacts.emails
        case .sms:
            eligible = contacts.phones.filter(\.type.acceptsTextMessages).map(\.number)
            if let chosen, !eligible.contains(chosen), let phone = contacts.phones.first(where: { $0.number == chosen }) {
                throw .invalidArgument(field: "destination", reason: "NOT_ALLOWED", message: "a \(phone.type.rawValue) line cannot take text messages")
            }
        }
        if let chosen {
            guard eligible.contains(chosen) else {
                throw .invalidArgument(field: "destination", reason: "INVALID_VALUE", message: "destination is not a contact on file")
            }
            return chosen
        }
        guard let first = eligible.first else {
            throw .failedPrecondition(
                reason: "NO_ELIGIBLE_CONTACT",
                message: channel == .email ? "no e-mail address on file" : "no phone on file that takes text messages (CELL, MAIN, MESSAGE, HOME, WORK)"
            )
        }
        return first
    }

    /// `p***@example.org`, or `***0100` for a phone number.
    static func mask(_ destination: String, channel: CodeChannel) -> String {
        switch channel {
        case .email:
            let parts = destination.split(separator: "@", maxSplits: 1)
            return "\(parts[0].prefix(1))***@\(parts.count > 1 ? parts[1] : "")"
        case .sms:
            return "***" + String(destination.filter(\.isASCIIDigit).suffix(4))
        }
    }

    /// 128 random bits as 32 hex digits.
    static func randomID() -> String {
        SecureRandom.bytes(count: 16).map { String(format: "%02x", $0) }.joined()
    }
}
