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
    /// Hands up to `max` deliveries to the agency's mail, SMS or letter system for `leaseSeconds`;
    /// a lease that runs out without an acknowledgement is handed out again (at least once).
    ///
    /// - Parameter channels: the channels the caller sends. When empty, e-mail and texts, as a
    ///   notifier made before letters existed expects: letters go only to one that asks for them.
    package func leaseDeliveries(max: Int, leaseSeconds: Int, channels: Set<DeliveryChannel> = [], context: CallContext) async throws -> [LeasedDelivery] {
        guard (1...100).contains(max) else {
            throw CredentialError.invalidArgument(field: "max", reason: "OUT_OF_RANGE", message: "max is 1 to 100")
        }
        guard (1...3600).contains(leaseSeconds) else {
            throw CredentialError.invalidArgument(field: "leaseSeconds", reason: "OUT_OF_RANGE", message: "leaseSeconds is 1 to 3600")
        }
        let time = now()
        let audit = draft(.leaseDeliveries, "OK", subject: nil, context: context)
        let leased = try await store.leaseDeliveries(
            max: max, channels: channels.isEmpty ? [.email, .sms] : channels, now: time, until: time.addingTimeInterval(TimeInterval(leaseSeconds)), audit: audit
        )
        return leased.compactMap { delivery in
            do {
                return LeasedDelivery(id: delivery.id, leaseToken: delivery.leaseToken ?? "", channel: delivery.channel, content: try openContent(of: delivery))
            } catch {
                logger.error("a delivery could not be decrypted; is its pepper key missing?", metadata: ["delivery": "\(delivery.id)", "key": "\(delivery.pepperKeyID)"])
                return nil
            }
        }
    }

    /// Records that a leased delivery was sent or failed; its content is erased either way.
    ///
    /// `leaseToken` must name the delivery's current lease: a notifier whose lease ran out and
    /// was given to another cannot settle the delivery in the other's place.
    package func acknowledgeDelivery(_ id: String, leaseToken: String, outcome: DeliveryState, context: CallContext) async throws {
        guard outcome == .sent || outcome == .failed else {
            throw CredentialError.invalidArgument(field: "outcome", reason: "INVALID_VALUE", message: "outcome is SENT or FAILED")
        }
        let audit = draft(.acknowledgeDelivery, outcome.rawValue, subject: nil, context: context, facts: ["delivery: \(id)"])
        switch try await store.acknowledgeDelivery(id, leaseToken: leaseToken, outcome: outcome, audit: audit) {
        case .acknowledged:
            return
        case .notFound:
            throw CredentialError.missing(field: "deliveryId", message: "no pending delivery with this id")
        case .leaseLost:
            throw CredentialError.failedPrecondition(reason: "LEASE_LOST", message: "the lease ran out and the delivery was leased again; do not send it twice")
        }
    }

    /// Erases the content of deliveries that expired unacknowledged; a server calls it on a timer,
    /// so that no code outlives its use while no notifier leases.
    @discardableResult
    package func expireDeliveries() async throws -> Int {
        let expired = try await store.expireDeliveries(now: now())
        if expired > 0 { logger.info("expired deliveries erased", metadata: ["count": "\(expired)"]) }
        return expired
    }

    func sealedDelivery(
        _ content: DeliveryContent, channel: DeliveryChannel, challengeID: String? = nil, changeRequestID: String? = nil, createdAt: Date, expiresAt: Date
    ) throws -> Delivery {
        let id = Self.randomID()
        let keyID = keyring.currentKeyID
        guard var key = keyring.derivedKey(id: keyID, for: .outbox) else { throw UnknownPepperKeyError(keyID: keyID) }
        defer { SecureMemory.cleanse(&key) }
        var plaintext = Array(try JSONEncoder().encode(content))
        defer { SecureMemory.cleanse(&plaintext) }
        let associatedData = Self.associatedData(id: id, channel: channel, keyID: keyID, expiresAt: expiresAt)
        let sealed = try AESGCM.seal(plaintext, key: key, associatedData: associatedData)
        return Delivery(
            id: id, channel: channel, sealedContent: sealed, pepperKeyID: keyID, challengeID: challengeID, changeRequestID: changeRequestID,
            createdAt: createdAt, expiresAt: expiresAt
        )
    }

    func openContent(of delivery: Delivery) throws -> DeliveryContent {
        guard let sealed = delivery.sealedContent, var key = keyring.derivedKey(id: delivery.pepperKeyID, for: .outbox) else {
            throw UnknownPepperKeyError(keyID: delivery.pepperKeyID)
        }
        defer { SecureMemory.cleanse(&key) }
        let associatedData = Self.associatedData(id: delivery.id, channel: delivery.channel, keyID: delivery.pepperKeyID, expiresAt: delivery.expiresAt)
        var plaintext = try AESGCM.open(sealed, key: key, associatedData: associatedData)
        defer { SecureMemory.cleanse(&plaintext) }
        return try JSONDecoder().decode(DeliveryContent.self, from: Data(plaintext))
    }

    /// What the seal binds the content to: a row whose id, channel, key or expiry was edited
    /// does not open.
    static func associatedData(id: String, channel: DeliveryChannel, keyID: String, expiresAt: Date) -> [UInt8] {
        Array("verity-outbox-v2|\(id)|\(channel.rawValue)|\(keyID)|\(Timestamp.milliseconds(of: expiresAt))".utf8)
    }
}
