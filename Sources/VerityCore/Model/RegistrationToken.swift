//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A single-use token that lets a person register on the self-service portal (procedure 001,
/// step 6), sent by e-mail when a caseworker starts the registration. Stored only as a keyed
/// MAC of its secret: the database never holds what redeems it.
package struct RegistrationToken: Equatable, Sendable {
    package enum State: String, CaseIterable, Sendable {
        case active = "ACTIVE"
        case used = "USED"
        /// A newer registration for the same subject replaced it.
        case replaced = "REPLACED"
    }

    /// The public half of the token, 32 lower-case hexadecimal digits: it finds the row.
    package var id: String
    package var subjectID: SubjectID
    /// HMAC-SHA256 (hex) of the token's secret half under the portal-token key of `pepperKeyID`.
    package var secretMAC: String
    package var pepperKeyID: String
    package var state: State
    package var createdAt: Date
    package var expiresAt: Date
    package var usedAt: Date?
    /// The keyed digest of the e-mail address it was sent to (as one-time codes count
    /// destinations): a token stops working once that address is no longer on file.
    package var destinationKey: String

    package init(
        id: String, subjectID: SubjectID, secretMAC: String, pepperKeyID: String, state: State = .active, createdAt: Date, expiresAt: Date,
        usedAt: Date? = nil, destinationKey: String
    ) {
        self.id = id
        self.subjectID = subjectID
        self.secretMAC = secretMAC
        self.pepperKeyID = pepperKeyID
        self.state = state
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.destinationKey = destinationKey
    }

    /// Uses the token, or says why it cannot be used. Only a caller who proved the secret gets
    /// these reasons: a wrong secret answers as an unknown token.
    package mutating func redeem(at now: Date) throws(CredentialError) {
        switch state {
        case .used:
            throw .failedPrecondition(reason: "TOKEN_USED", message: "the registration token was already used")
        case .replaced:
            throw .failedPrecondition(reason: "TOKEN_REPLACED", message: "a newer registration e-mail replaced this token")
        case .active where now >= expiresAt:
            throw .failedPrecondition(reason: "TOKEN_EXPIRED", message: "the registration token expired; ask the caseworker to start the registration again")
        case .active:
            state = .used
            usedAt = now
        }
    }
}
