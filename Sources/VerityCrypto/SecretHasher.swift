//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Hashes and checks secrets at rest.
///
/// The rules in `VerityCore` depend on this protocol rather than on ``PepperedSecretHasher``
/// so that tests can count every evaluation of a secret.
public protocol SecretHashing: Sendable {
    /// Returns the string to store for `secret`.
    func hash(_ secret: String) throws -> String

    /// Checks `secret` against a stored hash string.
    func verify(_ secret: String, against encoded: String) throws -> SecretMatch

    /// Spends the same work as a ``verify(_:against:)`` whose answer is discarded, so that
    /// checks on unknown subjects cost what checks on known ones do.
    func performDecoyVerification(of secret: String)
}

/// The outcome of checking a secret against its stored hash.
public enum SecretMatch: Equatable, Sendable {
    /// The secret matches. `needsRehash` says that the hash was made with other parameters or
    /// another pepper key than the current ones, and should be replaced now that the secret is known.
    case match(needsRehash: Bool)
    case mismatch
}

/// The hasher of secrets at rest: `KDF(HMAC-SHA256(HKDF(pepper, "verity/secret-hash/v2"), secret), salt)`.
///
/// The keyed step binds every hash to a pepper that lives outside the database; the KDF then
/// makes each guess expensive. New hashes use the current pepper key and ``derivation``.
public struct PepperedSecretHasher: SecretHashing {
    public static let saltLength = 16
    public static let hashLength = 32

    public let keyring: PepperKeyring
    public let derivation: KeyDerivation
    /// The costs accepted in stored hashes; ``derivation`` must lie within them.
    public let bounds: DerivationBounds

    /// - Precondition: `derivation` lies within `bounds`.
    public init(keyring: PepperKeyring, derivation: KeyDerivation = .recommended, bounds: DerivationBounds = .service) {
        precondition(bounds.contains(derivation), "the hasher's own KDF parameters lie outside its bounds")
        self.keyring = keyring
        self.derivation = derivation
        self.bounds = bounds
    }

    public func hash(_ secret: String) throws -> String {
        let salt = SecureRandom.bytes(count: Self.saltLength)
        let keyID = keyring.currentKeyID
        let key = try derive(secret, keyID: keyID, version: SecretHash.currentVersion, salt: salt, derivation: derivation, length: Self.hashLength)
        return SecretHash(derivation: derivation, pepperKeyID: keyID, salt: salt, hash: key).encoded
    }

    public func verify(_ secret: String, against encoded: String) throws -> SecretMatch {
        let stored = try SecretHash(encoded: encoded)
        guard bounds.contains(stored.derivation) else { throw SecretHashFormatError("KDF parameters outside the service's bounds") }
        let candidate = try derive(
            secret, keyID: stored.pepperKeyID, version: stored.version, salt: stored.salt, derivation: stored.derivation, length: stored.hash.count
        )
        guard ConstantTime.equals(candidate, stored.hash) else { return .mismatch }
        let current = stored.derivation == derivation && stored.pepperKeyID == keyring.currentKeyID && stored.version == SecretHash.currentVersion
        return .match(needsRehash: !current)
    }

    public func performDecoyVerification(of secret: String) {
        let salt = SecureRandom.bytes(count: Self.saltLength)
        _ = try? derive(secret, keyID: keyring.currentKeyID, version: SecretHash.currentVersion, salt: salt, derivation: derivation, length: Self.hashLength)
    }

    /// The KDF of the keyed secret; the keyed step's output and key are wiped once used.
    private func derive(
        _ secret: String,
        keyID: String,
        version: Int,
        salt: [UInt8],
        derivation: KeyDerivation,
        length: Int
    ) throws -> [UInt8] {
        guard var key = version == 1 ? keyring.key(id: keyID) : keyring.derivedKey(id: keyID, for: .secretHash) else {
            throw UnknownPepperKeyError(keyID: keyID)
        }
        defer { SecureMemory.cleanse(&key) }
        var secretBytes = Array(secret.utf8)
        defer { SecureMemory.cleanse(&secretBytes) }
        var keyed = HMACSHA256.authenticate(secretBytes, key: key)
        defer { SecureMemory.cleanse(&keyed) }
        return try derivation.deriveKey(password: keyed, salt: salt, length: length)
    }
}

/// A stored hash names a pepper key that the keyring no longer holds.
public struct UnknownPepperKeyError: Error, CustomStringConvertible, Sendable {
    public let keyID: String
    public init(keyID: String) { self.keyID = keyID }
    public var description: String { "the pepper key \(keyID) is not in the keyring; restore it to check hashes made with it" }
}

extension KeyDerivation {
    /// scrypt with N = 2^15, r = 8, p = 1: about 185 ms and 32 MiB a hash on one core of the
    /// reference machine.
    public static let recommended = KeyDerivation.scrypt(logN: 15, r: 8, p: 1)
    /// PBKDF2-HMAC-SHA256 with 600,000 iterations, OWASP's floor for FIPS deployments.
    public static let fipsRecommended = KeyDerivation.pbkdf2SHA256(iterations: 600_000)
}
