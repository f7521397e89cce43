//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
import VerityCrypto

/// A real ``PepperedSecretHasher`` that counts how often a secret is evaluated, so tests can
/// prove how many guesses reached the KDF.
package final class CountingHasher: SecretHashing {
    /// scrypt with N = 16: the real code path at a cost that keeps tests fast.
    package static let cheapDerivation = KeyDerivation.scrypt(logN: 4, r: 1, p: 1)

    private let hasher: PepperedSecretHasher
    private let counts = Mutex((evaluations: 0, decoys: 0, hashes: 0))

    package init(derivation: KeyDerivation = cheapDerivation, keyring: PepperKeyring? = nil) throws {
        hasher = PepperedSecretHasher(keyring: try keyring ?? PepperKeyring.random(), derivation: derivation, bounds: .lowCostForTests)
    }

    package init(_ hasher: PepperedSecretHasher) {
        self.hasher = hasher
    }

    /// The pepper keys the hasher uses.
    package var keyring: PepperKeyring { hasher.keyring }

    /// Secrets compared against a stored hash.
    package var evaluations: Int { counts.withLock { $0.evaluations } }
    /// Decoy verifications spent on unknown subjects.
    package var decoys: Int { counts.withLock { $0.decoys } }
    /// New hashes made.
    package var hashes: Int { counts.withLock { $0.hashes } }

    package func hash(_ secret: String) throws -> String {
        counts.withLock { $0.hashes += 1 }
        return try hasher.hash(secret)
    }

    package func verify(_ secret: String, against encoded: String) throws -> SecretMatch {
        counts.withLock { $0.evaluations += 1 }
        return try hasher.verify(secret, against: encoded)
    }

    package func performDecoyVerification(of secret: String) {
        counts.withLock { $0.decoys += 1 }
        hasher.performDecoyVerification(of: secret)
    }
}
