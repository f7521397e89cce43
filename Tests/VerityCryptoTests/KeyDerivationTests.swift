//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing
@testable import VerityCrypto

@Suite("Key derivation known answers")
struct KeyDerivationTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var derivation: KeyDerivation
        var password: String
        var salt: String
        var expected: String
        var testDescription: String { "\(derivation) \"\(password)\"/\"\(salt)\"" }
    }

    /// RFC 7914, section 12 (the fourth vector needs 1 GiB and is left out).
    static let scryptVectors = [
        Vector(
            derivation: .scrypt(logN: 4, r: 1, p: 1), password: "", salt: "",
            expected: "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        ),
        Vector(
            derivation: .scrypt(logN: 10, r: 8, p: 16), password: "password", salt: "NaCl",
            expected: "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        ),
        Vector(
            derivation: .scrypt(logN: 14, r: 8, p: 1), password: "pleaseletmein", salt: "SodiumChloride",
            expected: "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
        ),
    ]

    /// RFC 7914, section 11, and the widely published 32-byte PBKDF2-HMAC-SHA256 vectors.
    static let pbkdf2Vectors = [
        Vector(
            derivation: .pbkdf2SHA256(iterations: 1), password: "passwd", salt: "salt",
            expected: "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        ),
        Vector(
            derivation: .pbkdf2SHA256(iterations: 80000), password: "Password", salt: "NaCl",
            expected: "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        ),
        Vector(
            derivation: .pbkdf2SHA256(iterations: 1), password: "password", salt: "salt",
            expected: "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        ),
        Vector(
            derivation: .pbkdf2SHA256(iterations: 4096), password: "password", salt: "salt",
            expected: "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        ),
    ]

    @Test(arguments: scryptVectors + pbkdf2Vectors)
    func derivesTheKnownAnswer(_ vector: Vector) throws {
        let key = try vector.derivation.deriveKey(
            password: Array(vector.password.utf8),
            salt: Array(vector.salt.utf8),
            length: vector.expected.count / 2
        )
        #expect(key.hex == vector.expected)
    }

    @Test func refusesImpossibleParameters() {
        // r * p must stay below 2^30 in scrypt; OpenSSL refuses, and we surface its reason.
        #expect(throws: OpenSSLError.self) {
            try KeyDerivation.scrypt(logN: 4, r: 1 << 20, p: 1 << 12).deriveKey(password: [1], salt: [2], length: 32)
        }
    }
}

extension [UInt8] {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
