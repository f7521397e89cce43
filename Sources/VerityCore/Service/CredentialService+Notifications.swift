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
    /// Hands up to `max` deliveries to the agency's mail or SMS system for `leaseSeconds`;
    /// a lease that runs out without an acknowledgement is handed out again (at least once).
    public func leaseDeliveries(max: Int, leaseSeconds: Int, context: CallContext) async throws -> [LeasedDelivery] {
        guard (1...100).contains(max) else {
            throw CredentialError.invalidArgument(field: "max", reason: "OUT_OF_RANGE", message: "max is 1 to 100")
        }
        guard (1...3600).contains(leaseSeconds) else {
            throw CredentialError.invalidArgument(field: "leaseSeconds", reason: "OUT_OF_RANGE", message: "leaseSeconds is 1 to 3600")
        }
        let time = now()
        let audit = draft(.leaseDeliveries, "OK", subject: nil, context: context)
        let leased = try await store.leaseDeliveries(max: max, now: time, until: time.addingTimeInterval(TimeInterval(leaseSeconds)), audit: audit)
        return leased.compactMap { delivery in
            do {
                return LeasedDelivery(id: delivery.id, channel: delivery.channel, content: try openContent(of: delivery))
            } catch {
                logger.error("a delivery could not be decrypted; is its pepper key missing?", metadata: ["delivery": "\(delivery.id)", "key": "\(delivery.pepperKeyID)"])
                return nil
            }
        }
    }

    /// Records that a leased delivery was sent or failed; its content is erased either way.
    public func acknowledgeDelivery(_ id: String, outcome: DeliveryState, context: CallContext) async throws {
        guard outcome == .sent || outcome == .failed else {
            throw CredentialError.invalidArgument(field: "outcome", reason: "INVALID_VALUE", message: "outcome is SENT or FAILED")
        }
        let audit = draft(.acknowledgeDelivery, outcome.rawValue, subject: nil, context: context, facts: ["delivery: \(id)"])
        guard try await store.acknowledgeDelivery(id, outcome: outcome, audit: audit) else {
            throw CredentialError.missing(field: "deliveryId", message: "no pending delivery with this id")
        }
    }

    func sealedDelivery(_ content: DeliveryContent, channel: CodeChannel, createdAt: Date, expiresAt: Date) throws -> Delivery {
        let id = Self.randomID()
        let keyID = keyring.currentKeyID
        let key = keyring.derivedKey(id: keyID, purpose: "outbox")!
        let sealed = try AESGCM.seal(Array(try JSONEncoder().encode(content)), key: key, associatedData: Array(id.utf8))
        return Delivery(id: id, channel: channel, sealedContent: sealed, pepperKeyID: keyID, createdAt: createdAt, expiresAt: expiresAt)
    }

    func openContent(of delivery: Delivery) throws -> DeliveryContent {
        guard let sealed = delivery.sealedContent, let key = keyring.derivedKey(id: delivery.pepperKeyID, purpose: "outbox") else {
            throw UnknownPepperKeyError(keyID: delivery.pepperKeyID)
        }
        let plaintext = try AESGCM.open(sealed, key: key, associatedData: Array(delivery.id.utf8))
        return try JSONDecoder().decode(DeliveryContent.self, from: Data(plaintext))
    }
}
