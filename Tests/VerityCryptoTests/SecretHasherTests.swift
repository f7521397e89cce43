//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
@testable import VerityCrypto

@Suite("Peppered secret hashing")
struct SecretHasherTests {
    let cheap = KeyDerivation.scrypt(logN: 4, r: 1, p: 1)

    @Test func hashesVerifyAndRejectOtherSecrets() throws {
        let hasher = PepperedSecretHasher(keyring: try .random(), derivation: cheap, bounds: .lowCostForTests)
        let stored = try hasher.hash("4829157")
        #expect(try hasher.verify("4829157", against: stored) == .match(needsRehash: false))
        #expect(try hasher.verify("4829158", against: stored) == .mismatch)
        #expect(!stored.contains("4829157"))
    }

    @Test func everyHashHasItsOwnSalt() throws {
        let hasher = PepperedSecretHasher(keyring: try .random(), derivation: cheap, bounds: .lowCostForTests)
        #expect(try hasher.hash("same secret") != hasher.hash("same secret"))
    }

    @Test func theHashStringDescribesItself() throws {
        let hasher = PepperedSecretHasher(keyring: try .random(keyID: "dev-1"), derivation: cheap, bounds: .lowCostForTests)
        let stored = try SecretHash(encoded: try hasher.hash("x"))
        #expect(stored.derivation == cheap)
        #expect(stored.pepperKeyID == "dev-1")
        #expect(stored.salt.count == 16)
        #expect(stored.hash.count == 32)
        #expect(try SecretHash(encoded: stored.encoded) == stored)
    }

    @Test func aDifferentPepperDoesNotMatch() throws {
        let stored = try PepperedSecretHasher(keyring: try .random(), derivation: cheap, bounds: .lowCostForTests).hash("secret")
        let other = PepperedSecretHasher(keyring: try .random(), derivation: cheap, bounds: .lowCostForTests)
        #expect(try other.verify("secret", against: stored) == .mismatch)
    }

    @Test func olderParametersAskForARehash() throws {
        let keyring = try PepperKeyring.random()
        let old = try PepperedSecretHasher(keyring: keyring, derivation: .scrypt(logN: 3, r: 1, p: 1), bounds: .lowCostForTests).hash("secret")
        let current = PepperedSecretHasher(keyring: keyring, derivation: cheap, bounds: .lowCostForTests)
        #expect(try current.verify("secret", against: old) == .match(needsRehash: true))
        #expect(try current.verify("wrong", against: old) == .mismatch)
    }

    @Test func aRotatedPepperAsksForARehashAndKeepsOldHashesWorking() throws {
        let keyring = try PepperKeyring.random(keyID: "k1")
        let old = try PepperedSecretHasher(keyring: keyring, derivation: cheap, bounds: .lowCostForTests).hash("secret")
        let rotated = PepperedSecretHasher(keyring: try keyring.rotated(to: "k2"), derivation: cheap, bounds: .lowCostForTests)
        #expect(try rotated.verify("secret", against: old) == .match(needsRehash: true))
        #expect(try rotated.verify("secret", against: try rotated.hash("secret")) == .match(needsRehash: false))
    }

    @Test func aHashUnderAnUnknownPepperKeyIsAnError() throws {
        let stored = try PepperedSecretHasher(keyring: try .random(keyID: "gone"), derivation: cheap, bounds: .lowCostForTests).hash("secret")
        let hasher = PepperedSecretHasher(keyring: try .random(keyID: "k9"), derivation: cheap, bounds: .lowCostForTests)
        #expect(throws: UnknownPepperKeyError.self) { try hasher.verify("secret", against: stored) }
    }

    /// A row that names a cost the service never produces is an integrity error, never a
    /// 64 GiB allocation.
    @Test(arguments: [
        "$hmac-sha256-scrypt$v=1$k=k1,ln=24,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$hmac-sha256-scrypt$v=1$k=k1,ln=20,r=16,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$hmac-sha256-scrypt$v=1$k=k1,ln=15,r=8,p=16$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$hmac-sha256-scrypt$v=1$k=k1,ln=15,r=4,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$hmac-sha256-pbkdf2-sha256$v=1$k=k1,i=10000000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$hmac-sha256-pbkdf2-sha256$v=1$k=k1,i=1000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    ])
    func aStoredCostOutsideTheServiceBoundsIsNotEvaluated(_ stored: String) throws {
        let hasher = PepperedSecretHasher(keyring: try .random(keyID: "k1"))
        #expect(throws: SecretHashFormatError.self) { try hasher.verify("secret", against: stored) }
    }

    @Test func theServiceBoundsAreThoseTheServiceProduces() {
        #expect(DerivationBounds.service.contains(.recommended))
        #expect(DerivationBounds.service.contains(.fipsRecommended))
        #expect(DerivationBounds.service.contains(.scrypt(logN: 20, r: 8, p: 1)))
        #expect(!DerivationBounds.service.contains(.scrypt(logN: 20, r: 16, p: 1)), "2 GiB")
        #expect(!DerivationBounds.service.contains(.pbkdf2SHA256(iterations: 599_999)))
    }

    /// Version 1 keyed the HMAC step with the raw pepper: such hashes still verify, and ask to
    /// be replaced by version 2, whose key is derived for this use alone.
    @Test func aVersionOneHashStillVerifiesAndAsksForARehash() throws {
        let keyring = try PepperKeyring.random(keyID: "k1")
        let salt = Array(repeating: UInt8(7), count: 16)
        let keyed = HMACSHA256.authenticate(Array("secret".utf8), key: keyring.currentKey)
        let derived = try cheap.deriveKey(password: keyed, salt: salt, length: 32)
        let v1 = SecretHash(version: 1, derivation: cheap, pepperKeyID: "k1", salt: salt, hash: derived).encoded
        #expect(v1.contains("$v=1$"))
        let hasher = PepperedSecretHasher(keyring: keyring, derivation: cheap, bounds: .lowCostForTests)
        #expect(try hasher.verify("secret", against: v1) == .match(needsRehash: true))
        #expect(try hasher.verify("Secret", against: v1) == .mismatch)
        let v2 = try hasher.hash("secret")
        #expect(v2.contains("$v=2$"))
        #expect(try hasher.verify("secret", against: v2) == .match(needsRehash: false))
        // Version 2 does not apply the raw pepper: the same salt under version 1's keying differs.
        let reparsed = try SecretHash(encoded: v2)
        let rawKeyed = try cheap.deriveKey(password: keyed, salt: reparsed.salt, length: 32)
        #expect(rawKeyed != reparsed.hash)
    }

    /// RFC 5869, test case 1.
    @Test func hkdfMatchesTheRFC() throws {
        func bytes(_ hex: String) -> [UInt8] {
            stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16)! }
        }
        let okm = try HKDF.sha256(
            key: bytes("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), salt: bytes("000102030405060708090a0b0c"),
            info: bytes("f0f1f2f3f4f5f6f7f8f9"), length: 42
        )
        #expect(okm == bytes("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
    }

    @Test func everyUseHasAKeyOfItsOwn() throws {
        let keyring = try PepperKeyring.random(keyID: "k1")
        let keys = KeyUse.allCases.compactMap { keyring.derivedKey(id: "k1", for: $0) }
        #expect(Set(keys).count == KeyUse.allCases.count)
        #expect(!keys.contains(keyring.currentKey))
        #expect(keyring.derivedKey(id: "k2", for: .outbox) == nil)
    }

    @Test func pbkdf2WorksThroughTheSameInterface() throws {
        let hasher = PepperedSecretHasher(keyring: try .random(), derivation: .pbkdf2SHA256(iterations: 1000), bounds: .lowCostForTests)
        let stored = try hasher.hash("secret")
        #expect(stored.hasPrefix("$hmac-sha256-pbkdf2-sha256$v=2$k=k1,i=1000$"))
        #expect(try hasher.verify("secret", against: stored) == .match(needsRehash: false))
        #expect(try hasher.verify("Secret", against: stored) == .mismatch)
    }

    @Test func theDefaultCostHashesAndVerifies() throws {
        let hasher = PepperedSecretHasher(keyring: try .random())
        #expect(hasher.derivation == .scrypt(logN: 15, r: 8, p: 1))
        let stored = try hasher.hash("correct horse")
        #expect(stored.contains("ln=15,r=8,p=1"))
        #expect(try hasher.verify("correct horse", against: stored) == .match(needsRehash: false))
    }

    @Test(arguments: [
        "", "plain", "$hmac-sha256-scrypt$v=1$k=k1,ln=4,r=1,p=1$c2FsdHNhbHRzYWx0$",
        "$hmac-sha256-scrypt$v=3$k=k1,ln=4,r=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$md5$v=1$k=k1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$hmac-sha256-scrypt$v=1$ln=4,r=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$hmac-sha256-scrypt$v=1$k=k1,ln=99,r=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$hmac-sha256-scrypt$v=1$k=k1,ln=4,r=1,p=1,x=2$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$hmac-sha256-scrypt$v=1$k=k1,ln=4,r=1,p=1$!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ])
    func malformedHashStringsAreRefused(_ encoded: String) {
        #expect(throws: SecretHashFormatError.self) { try SecretHash(encoded: encoded) }
    }
}
