//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Logging
import Synchronization
import VerityCore
import VerityProtocol

/// Limits on what one caller (certificate CN) may do per minute, and the alarm when one caller
/// locks many people out: a compromised or buggy system must not be able to lock people out en
/// masse, nor unnoticed.
final class CallerGuard: Sendable {
    /// What a limit counts.
    enum Kind: Sendable {
        /// Security checks and code checks: each can count towards someone's lock.
        case check
        /// One-time codes issued: each sends a message to someone.
        case codeIssue

        init?(_ method: Method) {
            switch method {
            case .verify, .change, .verifyPin, .verifyCode, .checkFacts: self = .check
            case .issueCode: self = .codeIssue
            default: return nil
            }
        }
    }

    struct Limits: Sendable {
        var checksPerMinute: Int
        var codesPerMinute: Int
        /// Locks caused by one caller within ``lockAlarmWindow`` that raise the alarm.
        var lockAlarmThreshold: Int
        var lockAlarmWindow: Duration
    }

    /// A token bucket: `capacity` tokens, refilled at `capacity` a minute.
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct Key: Hashable {
        var caller: String
        var kind: Kind
    }

    private let limits: Limits
    private let buckets = Mutex<[Key: Bucket]>([:])
    private let locks = Mutex<[String: [ContinuousClock.Instant]]>([:])
    private let logger: Logger

    init(limits: Limits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Takes one token for `method` from `caller`'s bucket, or throws RESOURCE_EXHAUSTED
    /// `CALLER_RATE_LIMITED` with the time to wait.
    func admit(_ method: Method, caller: String, now: ContinuousClock.Instant = .now) throws(RPCError) {
        guard let kind = Kind(method) else { return }
        let capacity = Double(kind == .check ? limits.checksPerMinute : limits.codesPerMinute)
        let wait = buckets.withLock { buckets -> Double? in
            var bucket = buckets[Key(caller: caller, kind: kind)] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = Double((now - bucket.updated).components.seconds) + Double((now - bucket.updated).components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + elapsed * capacity / 60)
            bucket.updated = now
            defer { buckets[Key(caller: caller, kind: kind)] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) * 60 / capacity }
            bucket.tokens -= 1
            return nil
        }
        if let wait {
            let what = kind == .check ? "checks" : "one-time codes"
            throw RPCError(
                .resourceExhausted, "this caller has made too many \(what) in the last minute; retry in \(Int(wait.rounded(.up))) s",
                details: ["reason": "CALLER_RATE_LIMITED", "retryAfterSeconds": .integer(Int64(wait.rounded(.up)))]
            )
        }
    }

    /// Counts a lock caused by `caller`, and raises the alarm (an error log line) when it makes
    /// ``Limits/lockAlarmThreshold`` within the window.
    func recordLock(by caller: String, now: ContinuousClock.Instant = .now) {
        let recent = locks.withLock { locks -> Int in
            var times = locks[caller, default: []].filter { now - $0 < limits.lockAlarmWindow }
            times.append(now)
            locks[caller] = times
            return times.count
        }
        // Again at every further multiple, so that a sustained attack keeps being reported.
        if recent % limits.lockAlarmThreshold == 0 {
            logger.error("LOCK ALARM: one caller locked many subjects out", metadata: [
                "caller": "\(LogText.sanitized(caller))", "locks": "\(recent)", "window-seconds": "\(limits.lockAlarmWindow.components.seconds)",
            ])
        }
    }
}
