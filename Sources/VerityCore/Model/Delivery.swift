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
public struct Delivery: Equatable, Sendable {
    public var id: String
    public var channel: CodeChannel
    /// `nonce || ciphertext || tag` of the JSON ``DeliveryContent``; `nil` once erased.
    public var sealedContent: [UInt8]?
    public var pepperKeyID: String
    public var state: DeliveryState
    public var leasedUntil: Date?
    /// Names the current lease: an acknowledgement must present it, so that a notifier whose
    /// lease ran out cannot settle a delivery another notifier now holds.
    public var leaseToken: String?
    /// The one-time code this delivery carries, if any: replacing the code expires the delivery.
    public var challengeID: String?
    public var attempts: Int
    public var createdAt: Date
    public var expiresAt: Date

    public init(
        id: String, channel: CodeChannel, sealedContent: [UInt8]?, pepperKeyID: String, state: DeliveryState = .pending,
        leasedUntil: Date? = nil, leaseToken: String? = nil, challengeID: String? = nil, attempts: Int = 0,
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
        self.attempts = attempts
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Where a delivery stands.
public enum DeliveryState: String, CaseIterable, Codable, Sendable {
    /// Waiting to be leased, or leased and not yet acknowledged.
    case pending = "PENDING"
    case sent = "SENT"
    case failed = "FAILED"
    /// Not acknowledged before it expired; its content is erased.
    case expired = "EXPIRED"
}

/// What the agency's mail or SMS system needs to send one message.
public struct DeliveryContent: Codable, Equatable, Sendable {
    public var destination: String
    public var template: String
    public var variables: [String: String]

    public init(destination: String, template: String, variables: [String: String]) {
        self.destination = destination
        self.template = template
        self.variables = variables
    }
}

/// A delivery handed out by a lease, decrypted.
public struct LeasedDelivery: Equatable, Sendable {
    public var id: String
    public var leaseToken: String
    public var channel: CodeChannel
    public var content: DeliveryContent
}
