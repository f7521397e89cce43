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
    public func issueCode(
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
            codeMAC: try codeMAC(code, challengeID: challengeID, purpose: purpose, keyID: keyID), pepperKeyID: keyID,
            createdAt: time, expiresAt: expiresAt
        )
        let content = DeliveryContent(
            destination: address, template: purpose.template,
            variables: ["code": code, "purpose": purpose.rawValue, "expiresAt": Timestamp.string(from: expiresAt)]
        )
        let delivery = try sealedDelivery(content, channel: channel, createdAt: time, expiresAt: expiresAt)
        let audit = draft(.issueCode, "OK", subject: id, context: context, facts: ["purpose: \(purpose.rawValue)", "sent by \(channel.rawValue) to \(masked)"])
        let limit = CodeRateLimit(windowStart: time.addingTimeInterval(-configuration.codeRateWindow), maximum: configuration.codesPerWindow)
        switch try await store.insertCode(challenge, delivery: delivery, audit: audit, rateLimit: limit) {
        case .issued:
            log("one-time code issued", subject: id, context: context, ["purpose": "\(purpose.rawValue)", "channel": "\(channel.rawValue)"])
            return IssuedCode(challengeID: challengeID, maskedDestination: masked, expiresAt: expiresAt)
        case let .rateLimited(oldest):
            throw CredentialError.rateLimited(retryAfter: oldest.addingTimeInterval(configuration.codeRateWindow))
        }
    }

    /// Checks one try of a code. A code is single use, valid until it expires, and allows
    /// ``Configuration/codeAttemptLimit`` wrong tries; tries are reserved atomically before
    /// the code is compared, so a flood of parallel tries gets no more evaluated than that.
    /// Code failures do not count towards the security-check lock.
    public func verifyCode(challenge id: String, code: String, context: CallContext) async throws -> CodeVerificationResult {
        let limit = configuration.codeAttemptLimit
        switch try await store.reserveCodeAttempt(id, limit: limit, now: now()) {
        case .notFound:
            throw CredentialError.missing(field: "challengeId", message: "no challenge with this id")
        case let .refused(challenge):
            let outcome: CodeVerificationResult.Outcome = switch challenge.state {
            case .used: .alreadyUsed
            case .exhausted: .exhausted
            case .replaced: .expired
            case .active: challenge.failedAttempts >= limit ? .exhausted : .expired
            }
            try await store.append([draft(.verifyCode, outcome.rawValue, subject: challenge.subjectID, context: context, facts: ["not evaluated"])])
            return CodeVerificationResult(outcome, attemptsRemaining: 0)
        case let .reserved(challenge):
            let expected = try codeMAC(code, challengeID: challenge.id, purpose: challenge.purpose, keyID: challenge.pepperKeyID)
            let matched = ConstantTime.equals(Array(expected.utf8), Array(challenge.codeMAC.utf8))
            let remaining = max(0, limit - challenge.failedAttempts)
            let outcome: CodeVerificationResult.Outcome = matched ? .verified : .mismatch
            let audit = draft(.verifyCode, outcome.rawValue, subject: challenge.subjectID, context: context, facts: ["purpose: \(challenge.purpose.rawValue)"])
            try await store.finishCodeAttempt(challenge.id, matched: matched, limit: limit, audit: audit)
            log("one-time code checked", subject: challenge.subjectID, context: context, ["result": "\(outcome.rawValue)"])
            return CodeVerificationResult(outcome, attemptsRemaining: matched ? 0 : remaining)
        }
    }

    /// HMAC-SHA256 (hex) of `challenge id | purpose | code` under the code key derived from pepper key `keyID`.
    func codeMAC(_ code: String, challengeID: String, purpose: CodePurpose, keyID: String) throws -> String {
        guard let key = keyring.derivedKey(id: keyID, purpose: "one-time-code") else { throw UnknownPepperKeyError(keyID: keyID) }
        let message = Array("\(challengeID)|\(purpose.rawValue)|\(code)".utf8)
        return HMACSHA256.authenticate(message, key: key).map { String(format: "%02x", $0) }.joined()
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
