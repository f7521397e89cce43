//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A stored secret: the self-describing string that records how it was hashed.
///
/// The format follows the PHC string format, so that costs can rise and peppers rotate
/// without a migration: each hash carries its algorithm, its parameters, the id of the pepper
/// key used in the keyed step, its salt and its hash.
///
/// ```
/// $hmac-sha256-scrypt$v=2$k=dev-1,ln=15,r=8,p=1$<salt>$<hash>
/// $hmac-sha256-pbkdf2-sha256$v=2$k=dev-1,i=600000$<salt>$<hash>
/// ```
/// Salt and hash are base64 without padding. Version 2 keys the HMAC step with a key derived
/// from the pepper for this use alone (``KeyUse/secretHash``); version 1 keyed it with the raw
/// pepper, and is still read, and replaced on the next successful check.
public struct SecretHash: Hashable, Sendable {
    /// The version this code writes.
    public static let currentVersion = 2

    public var version: Int
    public var derivation: KeyDerivation
    public var pepperKeyID: String
    public var salt: [UInt8]
    public var hash: [UInt8]

    public init(version: Int = currentVersion, derivation: KeyDerivation, pepperKeyID: String, salt: [UInt8], hash: [UInt8]) {
        self.version = version
        self.derivation = derivation
        self.pepperKeyID = pepperKeyID
        self.salt = salt
        self.hash = hash
    }

    /// Parses a stored hash string.
    ///
    /// - Throws: ``SecretHashFormatError`` naming what is wrong; the message never repeats
    ///   the string, which is derived from a secret.
    public init(encoded: String) throws(SecretHashFormatError) {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].isEmpty else { throw .init("expected 5 fields after a leading '$'") }
        switch fields[2] {
        case "v=1": version = 1
        case "v=2": version = 2
        default: throw .init("unsupported version")
        }
        var parameters = try Self.parameters(fields[3])
        guard let keyID = parameters.removeValue(forKey: "k"), PepperKeyring.isValidKeyID(keyID) else {
            throw .init("missing or invalid pepper key id")
        }
        derivation = try Self.derivation(algorithm: fields[1], parameters: parameters)
        pepperKeyID = keyID
        guard let salt = Base64.decode(fields[4]), salt.count >= 8 else { throw .init("invalid salt") }
        guard let hash = Base64.decode(fields[5]), (16...64).contains(hash.count) else { throw .init("invalid hash") }
        self.salt = salt
        self.hash = hash
    }

    /// The string to store.
    public var encoded: String {
        let algorithm: String
        let parameters: String
        switch derivation {
        case let .scrypt(logN, r, p):
            algorithm = Self.scryptID
            parameters = "k=\(pepperKeyID),ln=\(logN),r=\(r),p=\(p)"
        case let .pbkdf2SHA256(iterations):
            algorithm = Self.pbkdf2ID
            parameters = "k=\(pepperKeyID),i=\(iterations)"
        }
        return "$\(algorithm)$v=\(version)$\(parameters)$\(Base64.encode(salt))$\(Base64.encode(hash))"
    }

    static let scryptID = "hmac-sha256-scrypt"
    static let pbkdf2ID = "hmac-sha256-pbkdf2-sha256"

    private static func parameters(_ field: Substring) throws(SecretHashFormatError) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in field.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parameters.updateValue(String(parts[1]), forKey: String(parts[0])) == nil else {
                throw .init("malformed parameters")
            }
        }
        return parameters
    }

    private static func derivation(
        algorithm: Substring,
        parameters: [String: String]
    ) throws(SecretHashFormatError) -> KeyDerivation {
        func integer(_ name: String, in range: ClosedRange<Int>) throws(SecretHashFormatError) -> Int {
            guard let text = parameters[name], let value = Int(text), range.contains(value) else {
                throw .init("parameter \(name) missing or out of range")
            }
            return value
        }
        switch algorithm {
        case Substring(scryptID):
            guard parameters.count == 3 else { throw .init("unexpected scrypt parameters") }
            return .scrypt(
                logN: try integer("ln", in: 1...24),
                r: try integer("r", in: 1...32),
                p: try integer("p", in: 1...16)
            )
        case Substring(pbkdf2ID):
            guard parameters.count == 1 else { throw .init("unexpected PBKDF2 parameters") }
            return .pbkdf2SHA256(iterations: try integer("i", in: 1...10_000_000))
        default:
            throw .init("unknown algorithm")
        }
    }
}

/// A stored hash string that cannot be parsed.
public struct SecretHashFormatError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "malformed secret hash: \(reason)" }
}

/// Base64 without padding, as the PHC string format writes salts and hashes.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: padded).map(Array.init)
    }
}
