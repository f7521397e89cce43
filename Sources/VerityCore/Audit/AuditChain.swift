//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCrypto

/// The hash chain that makes the audit trail tamper-evident.
///
/// Each event's hash covers its own fields and the hash of the event before it, so editing or
/// deleting any row breaks the chain from that row on. The canonical bytes are deliberately
/// simple (each field as `<byte count>:<UTF-8 bytes>;` in a fixed order) so that a checker in
/// any language can recompute them.
public enum AuditChain {
    /// The ``AuditEvent/previousHash`` of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// SHA-256, as lowercase hex, of the event's canonical bytes.
    public static func hash(of event: AuditEvent) -> String {
        SHA256.digest(canonicalBytes(of: event)).map { String(format: "%02x", $0) }.joined()
    }

    /// The bytes an event's hash covers: every field but the hash itself.
    public static func canonicalBytes(of event: AuditEvent) -> [UInt8] {
        let fields: [String] = [
            "v1", String(event.seq), String(Timestamp.milliseconds(of: event.time)), event.caller, event.role,
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

/// Checks an audit trail event by event, oldest first, so that a trail of any length can be
/// checked without holding it in memory.
public struct AuditChainVerifier: Sendable {
    private var previousHash = AuditChain.genesisHash
    private var expectedSeq: Int64 = 1
    private var checked = 0

    public init() {}

    /// Checks the next event: its place in the sequence, its link to the event before, and its
    /// own hash. Returns `false` at the first event that fails any of them.
    public mutating func check(_ event: AuditEvent) -> Bool {
        checked += 1
        guard event.seq == expectedSeq, event.previousHash == previousHash, AuditChain.hash(of: event) == event.hash else {
            return false
        }
        previousHash = event.hash
        expectedSeq += 1
        return true
    }

    /// The report so far; `firstBadSeq` is the event that failed ``check(_:)``, if one did.
    public func report(firstBadSeq: Int64?) -> AuditChainReport {
        AuditChainReport(checked: checked, headSeq: expectedSeq - 1, headHash: previousHash, firstBadSeq: firstBadSeq)
    }
}

/// The result of checking the audit chain.
public struct AuditChainReport: Equatable, Sendable {
    /// How many events were examined.
    public var checked: Int
    /// The last event that checked out, and its hash: an outside system that keeps the head can
    /// later tell whether events were cut off the end.
    public var headSeq: Int64
    public var headHash: String
    /// The first event whose stored content or link no longer matches, if any.
    public var firstBadSeq: Int64?

    public var ok: Bool { firstBadSeq == nil }

    public init(checked: Int, headSeq: Int64, headHash: String, firstBadSeq: Int64?) {
        self.checked = checked
        self.headSeq = headSeq
        self.headHash = headHash
        self.firstBadSeq = firstBadSeq
    }
}

/// RFC 3339 UTC timestamps with millisecond precision, as the wire and the audit chain write them.
public enum Timestamp {
    /// Milliseconds since 1970, rounded: how the store and the audit chain keep time, so that a
    /// value read back hashes exactly as it did when written.
    public static func milliseconds(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The date of a count of milliseconds since 1970.
    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The date as RFC 3339 UTC with milliseconds, rounded as ``milliseconds(of:)`` rounds, so
    /// that a time shows the same before and after the store keeps it.
    public static func string(from date: Date) -> String {
        let milliseconds = milliseconds(of: date)
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = Date(timeIntervalSince1970: TimeInterval(fraction < 0 ? seconds - 1 : seconds))
        let text = whole.formatted(secondsFormat)
        return "\(text.dropLast())." + String(format: "%03d", (fraction + 1000) % 1000) + "Z"
    }

    public static func date(from string: String) -> Date? {
        try? format.parse(string)
    }

    private static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let secondsFormat = Date.ISO8601FormatStyle(timeZone: .gmt)
}
