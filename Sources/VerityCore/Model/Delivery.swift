//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A message waiting in the notification outbox, as stored: its content sealed with
/// AES-256-GCM under a key derived from the pepper keyring, and erased once acknowledged or expired.
package struct Delivery: Equatable, Sendable {
    package var id: String
    package var channel: DeliveryChannel
    /// `nonce || ciphertext || tag` of the JSON ``DeliveryContent``; `nil` once erased.
    package var sealedContent: [UInt8]?
    package var pepperKeyID: String
    package var state: DeliveryState
    package var leasedUntil: Date?
    /// Names the current lease: an acknowledgement must present it, so that a notifier whose
    /// lease ran out cannot settle a delivery another notifier now holds.
    package var leaseToken: String?
    /// The one-time code this delivery carries, if any: replacing the code expires the delivery.
    package var challengeID: String?
    /// The change request whose letter this is, if any: the request's end withdraws it.
    package var changeRequestID: String?
    package var attempts: Int
    package var createdAt: Date
    package var expiresAt: Date

    package init(
        id: String, channel: DeliveryChannel, sealedContent: [UInt8]?, pepperKeyID: String, state: DeliveryState = .pending,
        leasedUntil: Date? = nil, leaseToken: String? = nil, challengeID: String? = nil, changeRequestID: String? = nil, attempts: Int = 0,
        createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.channel = channel
        self.sealedContent = sealedContent
        self.pepperKeyID = pepperKeyID
        self.state = state
        self.leasedUntil = leasedUntil
        self.leaseToken = leaseToken
        self.challengeID = challengeID
        self.changeRequestID = changeRequestID
        self.attempts = attempts
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// How a delivery reaches a person.
package enum DeliveryChannel: String, CaseIterable, Codable, Sendable {
    case email = "EMAIL"
    case sms = "SMS"
    /// A printed letter to a postal address on file.
    case letter = "LETTER"

    package init(_ channel: CodeChannel) {
        switch channel {
        case .email: self = .email
        case .sms: self = .sms
        }
    }
}

/// Where a delivery stands.
package enum DeliveryState: String, CaseIterable, Codable, Sendable {
    /// Waiting to be leased, or leased and not yet acknowledged.
    case pending = "PENDING"
    case sent = "SENT"
    case failed = "FAILED"
    /// Not acknowledged before it expired; its content is erased.
    case expired = "EXPIRED"
}

/// What the agency's mail or SMS system needs to send one message.
package struct DeliveryContent: Codable, Equatable, Sendable {
    package var destination: String
    package var template: String
    package var variables: [String: String]

    package init(destination: String, template: String, variables: [String: String]) {
        self.destination = destination
        self.template = template
        self.variables = variables
    }
}

/// A delivery handed out by a lease, decrypted.
package struct LeasedDelivery: Equatable, Sendable {
    package var id: String
    package var leaseToken: String
    package var channel: DeliveryChannel
    package var content: DeliveryContent
}
