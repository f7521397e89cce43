//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCrypto

/// Which pepper keys the stored data depends on, and for what: the secret hashes with their KDF
/// parameters, the one-time codes, the outbox, the audit chain, the registration tokens still
/// usable and the link facts.
///
/// A service whose keyring lacks one of these keys would count every check against such a
/// hash as a failure and could not verify its own trail: it must not start.
package struct KeyInventory: Equatable, Sendable {
    /// One kind of stored item under one pepper key.
    package struct Usage: Hashable, Comparable, Sendable {
        /// The pepper key id, or `nil` for a hash that names none (malformed).
        package var keyID: String?
        /// What depends on it, e.g. `secret hash v=2 scrypt ln=15 r=8 p=1`, `one-time code`.
        package var item: String

        package static func < (lhs: Usage, rhs: Usage) -> Bool {
            (lhs.keyID ?? "", lhs.item) < (rhs.keyID ?? "", rhs.item)
        }
    }

    /// How many stored items there are of each usage.
    package private(set) var counts: [Usage: Int] = [:]

    package init() {}

    /// Counts one stored secret hash, by its key and parameters.
    package mutating func addSecretHash(_ encoded: String) {
        guard let hash = try? SecretHash(encoded: encoded) else {
            counts[Usage(keyID: nil, item: "malformed secret hash"), default: 0] += 1
            return
        }
        let parameters = switch hash.derivation {
        case let .scrypt(logN, r, p): "scrypt ln=\(logN) r=\(r) p=\(p)"
        case let .pbkdf2SHA256(iterations): "pbkdf2-sha256 i=\(iterations)"
        }
        counts[Usage(keyID: hash.pepperKeyID, item: "secret hash v=\(hash.version) \(parameters)"), default: 0] += 1
    }

    /// Counts `count` stored items of another kind under `keyID`.
    package mutating func add(keyID: String, item: String, count: Int) {
        counts[Usage(keyID: keyID, item: item), default: 0] += count
    }

    /// Every pepper key id some stored item names.
    package var keyIDs: Set<String> { Set(counts.keys.compactMap(\.keyID)) }

    /// The key ids stored items need and `keyring` lacks, sorted.
    package func keysMissing(from keyring: PepperKeyring) -> [String] {
        keyIDs.filter { keyring.key(id: $0) == nil }.sorted()
    }

    /// One line per usage, sorted: `k1  secret hash v=2 scrypt ln=15 r=8 p=1  1234`.
    package var lines: [String] {
        counts.keys.sorted().map { "\($0.keyID ?? "-")\t\($0.item)\t\(counts[$0]!)" }
    }
}
