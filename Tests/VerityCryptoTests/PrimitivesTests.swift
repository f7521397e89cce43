//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSLShims
import Foundation
import Testing
@testable import VerityCrypto

@Suite("Random, comparison and MAC primitives")
struct PrimitivesTests {
    @Test func randomBytesDiffer() {
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
        #expect(SecureRandom.bytes(count: 0).isEmpty)
    }

    @Test func randomDigitsAreDigitsAndEvenlySpread() {
        let draws = SecureRandom.digits(count: 100_000)
        #expect(draws.count == 100_000)
        var counts = [Int](repeating: 0, count: 10)
        for byte in draws.utf8 {
            #expect((UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte))
            counts[Int(byte - UInt8(ascii: "0"))] += 1
        }
        // Chi-square with 9 degrees of freedom; 27.88 is the 0.999 quantile, so a fair
        // generator fails this one time in a thousand, and a modulo-biased one (digits 0-5
        // drawn 26/256 rather than 25.6/256 of the time) fails it almost always at this size.
        let expected = Double(draws.count) / 10
        let chiSquare = counts.reduce(0) { $0 + pow(Double($1) - expected, 2) / expected }
        #expect(chiSquare < 27.88)
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
    }

    @Test func hmacMatchesRFC4231TestCase2() {
        let tag = HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8))
        #expect(tag.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func sha256MatchesTheFIPSExample() {
        #expect(SHA256.digest(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func shimConstantsMatchOpenSSL() {
        // SSL_OP_NO_COMPRESSION is bit 17 and SSL_OP_NO_RENEGOTIATION bit 30 in OpenSSL 3.
        #expect(verity_SSL_OP_NO_COMPRESSION == 1 << 17)
        #expect(verity_SSL_OP_NO_RENEGOTIATION == 1 << 30)
        #expect(verity_OSSL_PARAM_END().key == nil)
    }
}
