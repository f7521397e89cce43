//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The KDF parameters a hasher accepts, in the hashes it makes and in the hashes it reads.
///
/// A stored hash names its own cost, so a row written by someone with access to the database
/// could ask for `ln=40` and make one check allocate terabytes. A hash outside these bounds is
/// not evaluated: it is an integrity error, like a malformed hash.
public struct DerivationBounds: Hashable, Sendable {
    public var scryptLogN: ClosedRange<Int>
    public var scryptR: ClosedRange<Int>
    public var scryptP: ClosedRange<Int>
    public var pbkdf2Iterations: ClosedRange<Int>
    /// The most memory one scrypt evaluation may take, `128 * r * N` bytes.
    public var scryptMemoryBytes: Int

    public init(scryptLogN: ClosedRange<Int>, scryptR: ClosedRange<Int>, scryptP: ClosedRange<Int>, pbkdf2Iterations: ClosedRange<Int>, scryptMemoryBytes: Int) {
        self.scryptLogN = scryptLogN
        self.scryptR = scryptR
        self.scryptP = scryptP
        self.pbkdf2Iterations = pbkdf2Iterations
        self.scryptMemoryBytes = scryptMemoryBytes
    }

    /// What the service produces: scrypt `ln` ≤ 20, `r` 8–16, `p` ≤ 4, at most 1 GiB; PBKDF2 600,000–5,000,000.
    public static let service = DerivationBounds(
        scryptLogN: 1...20, scryptR: 8...16, scryptP: 1...4, pbkdf2Iterations: 600_000...5_000_000, scryptMemoryBytes: 1 << 30
    )

    /// The service's ceilings with no floors, so that tests can hash at a tiny cost.
    public static let lowCostForTests = DerivationBounds(
        scryptLogN: 1...20, scryptR: 1...16, scryptP: 1...4, pbkdf2Iterations: 1...5_000_000, scryptMemoryBytes: 1 << 30
    )

    /// Whether `derivation` lies within the bounds.
    public func contains(_ derivation: KeyDerivation) -> Bool {
        switch derivation {
        case let .scrypt(logN, r, p):
            scryptLogN.contains(logN) && scryptR.contains(r) && scryptP.contains(p)
                && 128 * r * (1 << logN) <= scryptMemoryBytes
        case let .pbkdf2SHA256(iterations):
            pbkdf2Iterations.contains(iterations)
        }
    }
}
