//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

/// The keyed hash chain that makes the audit trail tamper-evident.
///
/// Each event's hash is an HMAC-SHA256, under a key derived from the pepper for this use alone,
/// of its own fields and the hash of the event before it: editing or deleting any row breaks the
/// chain from that row on, and without the pepper nobody can recompute it. The canonical bytes are
/// deliberately simple (each field as `<byte count>:<UTF-8 bytes>;` in a fixed order) so that a
/// checker in any language can recompute them. Events written before the chain was keyed carry no
/// key id and a plain SHA-256 of the version 1 bytes; they may only come before the first keyed one.
package enum AuditChain {
    /// The ``AuditEvent/previousHash`` of the first event.
    package static let genesisHash = String(repeating: "0", count: 64)

    /// The event's hash: HMAC-SHA256 under `key` of the version 2 bytes, or, for an event
    /// without a key id, SHA-256 of the version 1 bytes.
    package static func hash(of event: AuditEvent, key: [UInt8]?) -> String {
        let digest: [UInt8]
        if event.keyID != nil, let key {
            digest = HMACSHA256.authenticate(canonicalBytes(of: event), key: key)
        } else {
            digest = SHA256.digest(canonicalBytes(of: event))
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The bytes an event's hash covers: every field but the hash itself; the key id too, from version 2.
    package static func canonicalBytes(of event: AuditEvent) -> [UInt8] {
        let version = event.keyID.map { ["v2", $0] } ?? ["v1"]
        let fields: [String] = version + [
            String(event.seq), String(Timestamp.milliseconds(of: event.time)), event.caller, event.role,
            event.actor ?? "", event.subjectID ?? "", event.method, event.action.rawValue, event.outcome,
            String(event.facts.count),
        ] + event.facts + [event.previousHash]
        var bytes: [UInt8] = []
        for field in fields {
            bytes += Array("\(field.utf8.count):".utf8) + Array(field.utf8) + [UInt8(ascii: ";")]
        }
        return bytes
    }
}

/// The audit-chain keys of every pepper key: the current one seals new events, all of them
/// check old ones.
package struct AuditChainKeys: Sendable {
    package let currentKeyID: String
    private let keys: [String: [UInt8]]

    package init(keyring: PepperKeyring) {
        currentKeyID = keyring.currentKeyID
        keys = Dictionary(uniqueKeysWithValues: keyring.keyIDs.map { ($0, keyring.derivedKey(id: $0, for: .auditChain)!) })
    }

    package var currentKey: [UInt8] { keys[currentKeyID]! }

    package func key(id: String) -> [UInt8]? { keys[id] }
}

/// Checks an audit trail event by event, oldest first, so that a trail of any length can be
/// checked without holding it in memory.
package struct AuditChainVerifier: Sendable {
    private let keys: AuditChainKeys
    private var previousHash = AuditChain.genesisHash
    private var expectedSeq: Int64 = 1
    private var checked = 0
    private var sawKeyedEvent = false
    private var lastWasKeyed = true

    package init(keys: AuditChainKeys) {
        self.keys = keys
    }

    /// Checks the next event: its place in the sequence, its link to the event before, and its
    /// own hash, under its key. An unkeyed event after a keyed one is a forgery (a downgrade).
    /// Returns `false` at the first event that fails any of them.
    package mutating func check(_ event: AuditEvent) -> Bool {
        checked += 1
        let key = event.keyID.flatMap(keys.key(id:))
        guard
            event.seq == expectedSeq, event.previousHash == previousHash,
            event.keyID == nil ? !sawKeyedEvent : key != nil,
            ConstantTime.equals(Array(AuditChain.hash(of: event, key: key).utf8), Array(event.hash.utf8))
        else {
            return false
        }
        sawKeyedEvent = sawKeyedEvent || event.keyID != nil
        lastWasKeyed = event.keyID != nil
        previousHash = event.hash
        expectedSeq += 1
        return true
    }

    /// The report so far; `firstBadSeq` is the event that failed ``check(_:)``, if one did.
    ///
    /// A chain whose head is unkeyed is reported broken at its head: its plain SHA-256 links
    /// can be forged by anyone who can write the database, so only a keyed head vouches for
    /// what comes before it (a store is given a keyed head when it is first opened keyed).
    package func report(firstBadSeq: Int64?) -> AuditChainReport {
        let unvouched = firstBadSeq == nil && checked > 0 && !lastWasKeyed ? expectedSeq - 1 : nil
        return AuditChainReport(checked: checked, headSeq: expectedSeq - 1, headHash: previousHash, firstBadSeq: firstBadSeq ?? unvouched)
    }
}

/// A head of the audit trail as the service vouches for it: an operator who keeps `seq` and
/// `hash` can later prove that the trail was neither cut back nor rewritten up to that point
/// (`verityctl audit verify --expect-head SEQ:HASH`); the MAC shows that this service issued it.
package struct AuditCheckpoint: Equatable, Sendable {
    package var seq: Int64
    package var hash: String
    package var time: Date
    /// The pepper key whose checkpoint key made ``mac``.
    package var keyID: String
    /// HMAC-SHA256 (hex), under the checkpoint key, of ``signedBytes``.
    package var mac: String

    /// `verity-audit-checkpoint-v1|<seq>|<hash>|<time in ms>`, the bytes the MAC covers.
    package var signedBytes: [UInt8] {
        Array("verity-audit-checkpoint-v1|\(seq)|\(hash)|\(Timestamp.milliseconds(of: time))".utf8)
    }

    /// A checkpoint of `seq` and `hash`, made now with the current key of `keyring`.
    package init(seq: Int64, hash: String, time: Date, keyring: PepperKeyring) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.keyID = keyring.currentKeyID
        self.mac = ""
        self.mac = Self.mac(of: signedBytes, keyID: keyID, keyring: keyring) ?? ""
    }

    /// Whether `keyring` made this checkpoint.
    package func isAuthentic(under keyring: PepperKeyring) -> Bool {
        guard let expected = Self.mac(of: signedBytes, keyID: keyID, keyring: keyring) else { return false }
        return ConstantTime.equals(Array(expected.utf8), Array(mac.utf8))
    }

    private static func mac(of bytes: [UInt8], keyID: String, keyring: PepperKeyring) -> String? {
        guard var key = keyring.derivedKey(id: keyID, for: .auditCheckpoint) else { return nil }
        defer { SecureMemory.cleanse(&key) }
        return HMACSHA256.authenticate(bytes, key: key).map { String(format: "%02x", $0) }.joined()
    }
}

/// The result of checking the audit chain.
package struct AuditChainReport: Equatable, Sendable {
    /// How many events were examined.
    package var checked: Int
    /// The last event that checked out, and its hash: an outside system that keeps the head can
    /// later tell whether events were cut off the end.
    package var headSeq: Int64
    package var headHash: String
    /// The first event whose stored content or link no longer matches, if any.
    package var firstBadSeq: Int64?

    package var ok: Bool { firstBadSeq == nil }

    package init(checked: Int, headSeq: Int64, headHash: String, firstBadSeq: Int64?) {
        self.checked = checked
        self.headSeq = headSeq
        self.headHash = headHash
        self.firstBadSeq = firstBadSeq
    }
}

/// RFC 3339 UTC timestamps with millisecond precision, as the wire and the audit chain write them.
package enum Timestamp {
    /// Milliseconds since 1970, rounded: how the store and the audit chain keep time, so that a
    /// value read back hashes exactly as it did when written.
    package static func milliseconds(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The date of a count of milliseconds since 1970.
    package static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The date as RFC 3339 UTC with milliseconds, rounded as ``milliseconds(of:)`` rounds, so
    /// that a time shows the same before and after the store keeps it.
    ///
    /// Written by hand from the civil calendar (Howard Hinnant's `civil_from_days`), not with a
    /// `FormatStyle`: every answer with a time formats one or more, and Foundation's formatter cost
    /// more than the rest of a status call.
    package static func string(from date: Date) -> String {
        let milliseconds = milliseconds(of: date)
        let day = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let inDay = milliseconds - day * 86_400_000
        let (year, month, dayOfMonth) = civil(fromDays: day)
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(48 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); text.append(45); digits(month, 2); text.append(45); digits(dayOfMonth, 2); text.append(84)
        digits(inDay / 3_600_000, 2); text.append(58); digits(inDay / 60000 % 60, 2); text.append(58); digits(inDay / 1000 % 60, 2)
        text.append(46); digits(inDay % 1000, 3); text.append(90)
        return String(decoding: text, as: UTF8.self)
    }

    /// The year, month and day of a count of days since 1970-01-01 (proleptic Gregorian).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The date of an RFC 3339 UTC time (`Z`), with or without fractional seconds.
    package static func date(from string: String) -> Date? {
        (try? format.parse(string)) ?? (try? secondsFormat.parse(string))
    }

    private static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let secondsFormat = Date.ISO8601FormatStyle(timeZone: .gmt)
}
