//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The pepper keys of the keyed step: 32-byte HMAC keys, each under a short id.
///
/// The pepper never enters the database, so a stolen database alone cannot be attacked
/// offline. The id of the key used is part of every ``SecretHash``; rotating means adding a
/// new current key and keeping the old ones until every hash made with them has been rehashed
/// (which happens on the next successful check).
///
/// On disk it is a JSON file that only its owner may read or write:
/// ```json
/// {"version": 1, "current": "k2", "keys": [{"id": "k1", "key": "<base64>"}, {"id": "k2", "key": "<base64>"}]}
/// ```
public struct PepperKeyring: Sendable {
    /// The length of every key, in bytes.
    public static let keyLength = 32

    /// The id of the key that new hashes use.
    public let currentKeyID: String
    private let keys: [String: [UInt8]]

    /// Creates a keyring from keys already in memory.
    public init(currentKeyID: String, keys: [String: [UInt8]]) throws(PepperKeyringError) {
        for (id, key) in keys {
            guard Self.isValidKeyID(id) else { throw .invalidKeyID }
            guard key.count == Self.keyLength else { throw .wrongKeyLength(keyID: id) }
        }
        guard keys[currentKeyID] != nil else { throw .unknownCurrentKey(currentKeyID) }
        self.currentKeyID = currentKeyID
        self.keys = keys
    }

    /// Makes a keyring with one new random key.
    public static func random(keyID: String = "k1") throws(PepperKeyringError) -> PepperKeyring {
        try PepperKeyring(currentKeyID: keyID, keys: [keyID: SecureRandom.bytes(count: keyLength)])
    }

    /// The key with the given id, if this keyring holds it.
    public func key(id: String) -> [UInt8]? { keys[id] }

    /// The key that new hashes use.
    public var currentKey: [UInt8] { keys[currentKeyID]! }

    /// The ids of every key held, sorted.
    public var keyIDs: [String] { keys.keys.sorted() }

    /// A keyring holding these keys plus a new random key under `newKeyID`, which becomes current.
    public func rotated(to newKeyID: String) throws(PepperKeyringError) -> PepperKeyring {
        try adding(newKeyID).makingCurrent(newKeyID)
    }

    /// A keyring holding these keys plus a new random key under `newKeyID`; the current key stays.
    public func adding(_ newKeyID: String) throws(PepperKeyringError) -> PepperKeyring {
        guard keys[newKeyID] == nil else { throw .duplicateKeyID(newKeyID) }
        var keys = self.keys
        keys[newKeyID] = SecureRandom.bytes(count: Self.keyLength)
        return try PepperKeyring(currentKeyID: currentKeyID, keys: keys)
    }

    /// The same keys, with `keyID` current.
    public func makingCurrent(_ keyID: String) throws(PepperKeyringError) -> PepperKeyring {
        try PepperKeyring(currentKeyID: keyID, keys: keys)
    }

    /// Whether `id` can name a key: 1 to 32 characters of letters, digits, `-` and `_`, so
    /// that it fits a PHC parameter value.
    public static func isValidKeyID(_ id: some StringProtocol) -> Bool {
        (1...32).contains(id.utf8.count)
            && id.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }
}

extension PepperKeyring {
    /// Reads a keyring file.
    ///
    /// The file is opened without following a symbolic link, and checked on the open descriptor
    /// (so it cannot be swapped between the check and the read): a regular file, owned by the
    /// user the service runs as, that neither the group nor others may read or write, in a
    /// directory that neither the group nor others may write (where the file could be replaced).
    ///
    /// - Throws: ``PepperKeyringError`` naming what is wrong and how to fix it; a pepper that
    ///   others can read or replace protects nothing, so we refuse to start rather than run with it.
    public static func load(from path: String) throws(PepperKeyringError) -> PepperKeyring {
        try checkParentDirectory(of: path)
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw errno == ELOOP ? .notARegularFile(path: path) : .unreadable(path: path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(path: path) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        guard status.st_uid == geteuid() else { throw .wrongOwner(path: path, owner: status.st_uid) }
        let mode = Int(status.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        var data = try readAll(descriptor, path: path)
        defer { SecureMemory.cleanse(&data) }
        guard let file = try? JSONDecoder().decode(KeyringFile.self, from: Data(data)), file.version == 1 else {
            throw .malformed(path: path)
        }
        var keys: [String: [UInt8]] = [:]
        for entry in file.keys {
            guard let key = Data(base64Encoded: entry.key) else { throw .malformed(path: path) }
            guard keys.updateValue(Array(key), forKey: entry.id) == nil else { throw .duplicateKeyID(entry.id) }
        }
        return try PepperKeyring(currentKeyID: file.current, keys: keys)
    }

    private static func checkParentDirectory(of path: String) throws(PepperKeyringError) {
        let parent = (path as NSString).deletingLastPathComponent
        var status = stat()
        guard stat(parent.isEmpty ? "." : parent, &status) == 0 else { throw .unreadable(path: path) }
        let mode = Int(status.st_mode) & 0o777
        guard mode & 0o022 == 0 else { throw .insecureDirectory(path: parent.isEmpty ? "." : parent, mode: mode) }
    }

    private static func readAll(_ descriptor: Int32, path: String) throws(PepperKeyringError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { SecureMemory.cleanse(&chunk) }
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw .unreadable(path: path) }
            if count == 0 { return bytes }
            guard bytes.count + count <= 1 << 20 else { throw .malformed(path: path) }
            bytes += chunk[0..<count]
        }
    }

    /// Writes this keyring to a new file that only its owner can read and write.
    ///
    /// The file is created with mode 0600 in one step (`O_CREAT | O_EXCL`), so there is no
    /// moment when it exists with wider permissions, and an existing file is never overwritten.
    public func write(to path: String) throws(PepperKeyringError) {
        let file = KeyringFile(
            version: 1,
            current: currentKeyID,
            keys: keyIDs.map { KeyringFile.Entry(id: $0, key: Data(keys[$0]!).base64EncodedString()) }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(file) else { throw .malformed(path: path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unwritable(path: path, errno: errno) }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else { throw .unwritable(path: path, errno: errno) }
    }

    /// Replaces the keyring file at `path` with this keyring in one atomic step: written to a new
    /// owner-only file beside it, synced, then renamed over the old one, so a crash leaves either
    /// keyring whole, never half of one.
    public func replace(at path: String) throws(PepperKeyringError) {
        let staging = path + ".new"
        unlink(staging)
        try write(to: staging)
        guard rename(staging, path) == 0 else { throw .unwritable(path: path, errno: errno) }
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private struct KeyringFile: Codable {
        struct Entry: Codable {
            var id: String
            var key: String
        }
        var version: Int
        var current: String
        var keys: [Entry]
    }
}

/// Why a pepper keyring could not be used. No case ever carries key material.
public enum PepperKeyringError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String)
    case unwritable(path: String, errno: Int32)
    case insecurePermissions(path: String, mode: Int)
    case insecureDirectory(path: String, mode: Int)
    case notARegularFile(path: String)
    case wrongOwner(path: String, owner: UInt32)
    case malformed(path: String)
    case invalidKeyID
    case duplicateKeyID(String)
    case wrongKeyLength(keyID: String)
    case unknownCurrentKey(String)

    public var description: String {
        switch self {
        case let .unreadable(path): "cannot read the pepper keyring at \(path)"
        case let .unwritable(path, code): "cannot create the pepper keyring at \(path) (errno \(code)); an existing file is never overwritten"
        case let .insecurePermissions(path, mode):
            "the pepper keyring \(path) has mode \(String(mode, radix: 8)); only its owner may read it: chmod 600 \(path)"
        case let .insecureDirectory(path, mode):
            "the directory \(path) of the pepper keyring has mode \(String(mode, radix: 8)); others could replace the keyring: chmod go-w \(path)"
        case let .notARegularFile(path): "the pepper keyring \(path) is not a regular file (a symbolic link is refused)"
        case let .wrongOwner(path, owner):
            "the pepper keyring \(path) belongs to uid \(owner), not to the user verityd runs as (uid \(geteuid())): chown it"
        case let .malformed(path): "the pepper keyring \(path) is not a version 1 keyring file"
        case .invalidKeyID: "a pepper key id must be 1 to 32 letters, digits, '-' or '_'"
        case let .duplicateKeyID(id): "the pepper key id \(id) is used twice"
        case let .wrongKeyLength(id): "the pepper key \(id) is not \(PepperKeyring.keyLength) bytes long"
        case let .unknownCurrentKey(id): "the current pepper key \(id) is not in the keyring"
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

extension PepperKeyring {
    /// A 32-byte key for one use of the pepper key `id`: HKDF-SHA256 of the pepper key with the
    /// label `verity/<use>/v2` as its info, so that no two uses share a key.
    ///
    /// - Returns: `nil` when the keyring lacks `id`.
    public func derivedKey(id: String, for use: KeyUse) -> [UInt8]? {
        guard let key = key(id: id) else { return nil }
        // HKDF over a 32-byte in-memory key fails only if OpenSSL itself is broken.
        guard let derived = try? HKDF.sha256(key: key, info: Array("verity/\(use.rawValue)/v2".utf8)) else {
            fatalError("HKDF-SHA256 failed")
        }
        return derived
    }
}

/// What a key derived from the pepper is for; each use has a key of its own.
public enum KeyUse: String, CaseIterable, Sendable {
    /// The keyed step in front of the KDF of stored secrets (hash version 2).
    case secretHash = "secret-hash"
    /// The MAC of one-time codes.
    case oneTimeCode = "one-time-code"
    /// The AEAD key of the notification outbox.
    case outbox = "outbox"
    /// The keyed digest of a code's destination, to count codes per destination without storing it.
    case codeDestination = "code-destination"
    /// The MAC that links the audit trail's events.
    case auditChain = "audit-chain"
    /// The MAC of the audit trail's checkpoints.
    case auditCheckpoint = "audit-checkpoint"
    /// The MAC of portal registration tokens: a token is stored only as its MAC.
    case portalToken = "portal-token"
    /// The MAC of the facts a portal account is linked on (date of birth, ZIP code, case numbers):
    /// compared for equality, never kept in clear.
    case linkFacts = "link-facts"
}
