//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityCore
import VerityCrypto
import VerityStore
import VerityTestSupport

/// The lock as a pure state machine, step by step, then under random concurrency.
@Suite("The check lock")
struct CheckLockTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func activeSubject() throws -> Subject {
        var subject = Subject(id: try SubjectID("lock-1"), kind: .client, createdAt: now, updatedAt: now)
        subject.state = .active
        subject.credentials.pinHash = "stored"
        return subject
    }

    func reserve(_ subject: inout Subject, _ id: String, at time: Date? = nil) -> CheckLock.Reservation {
        CheckLock.reserve(&subject, check: id, slots: [.pin], now: time ?? now, limit: 3, longestCheck: 120)
    }

    func finish(_ subject: inout Subject, _ id: String, matched: Bool) -> CheckLock.Finish {
        CheckLock.finish(&subject, check: id, matched: matched, limit: 3, now: now)
    }

    @Test func aSuccessDoesNotForgiveAWrongGuessThatRacedIt() throws {
        var subject = try activeSubject()
        _ = reserve(&subject, "right")
        _ = reserve(&subject, "wrong")
        #expect(finish(&subject, "wrong", matched: false) == .mismatch(attemptsRemaining: 2, blocked: false))
        #expect(finish(&subject, "right", matched: true) == .verified)
        #expect(subject.consecutiveFailures == 1, "the right check was reserved before the wrong one failed")
    }

    @Test func aSuccessClearsTheFailuresItSaw() throws {
        var subject = try activeSubject()
        _ = reserve(&subject, "w1")
        _ = finish(&subject, "w1", matched: false)
        _ = reserve(&subject, "w2")
        _ = finish(&subject, "w2", matched: false)
        _ = reserve(&subject, "right")
        #expect(finish(&subject, "right", matched: true) == .verified)
        #expect(subject.consecutiveFailures == 0)
    }

    @Test func checksInFlightHoldTheRemainingAttemptsWithoutBlocking() throws {
        var subject = try activeSubject()
        for n in 0..<3 { #expect((try? reserve(&subject, "c\(n)").decision.get()) != nil) }
        #expect(reserve(&subject, "c3").decision == .failure(CheckLock.RefusalError(refusal: .checksInProgress)))
        #expect(subject.state == .active)
        // The third failure blocks by the row as it is now.
        _ = finish(&subject, "c0", matched: false)
        _ = finish(&subject, "c1", matched: false)
        #expect(finish(&subject, "c2", matched: false) == .mismatch(attemptsRemaining: 0, blocked: true))
        #expect(subject.state == .blocked)
    }

    /// While a right check is in flight it holds an attempt, so failures alone cannot block
    /// meanwhile; whatever else blocks the subject, the right check then answers BLOCKED.
    @Test func aRightSecretFinishingAfterABlockAnswersBlocked() throws {
        var subject = try activeSubject()
        _ = reserve(&subject, "right")
        _ = reserve(&subject, "w1")
        _ = reserve(&subject, "w2")
        _ = finish(&subject, "w1", matched: false)
        _ = finish(&subject, "w2", matched: false)
        #expect(reserve(&subject, "w3").decision == .failure(CheckLock.RefusalError(refusal: .checksInProgress)))
        #expect(subject.state == .active)
        subject.state = .blocked
        #expect(finish(&subject, "right", matched: true) == .notActiveMeanwhile(.blocked))
        #expect(subject.consecutiveFailures == 2)
    }

    /// Found by spin: a check of the old PIN must not verify, nor let Change overwrite, the
    /// details a caseworker set while it ran.
    @Test func aMatchAgainstReplacedDetailsVerifiesNothing() throws {
        var subject = try activeSubject()
        _ = reserve(&subject, "old-pin")
        subject.credentials.pinHash = "replaced by a caseworker"
        let finished = CheckLock.finish(&subject, check: "old-pin", matched: true, compared: [.pin: .some("stored")], limit: 3, now: now)
        #expect(finished == .credentialsChangedMeanwhile)
        #expect(subject.pendingChecks.isEmpty && subject.consecutiveFailures == 0)
    }

    @Test func onlyAReservationOlderThanTheLongestCheckIsLost() throws {
        var subject = try activeSubject()
        for n in 0..<3 { _ = reserve(&subject, "c\(n)") }
        let early = reserve(&subject, "late", at: now.addingTimeInterval(119))
        #expect(early.lostChecks.isEmpty)
        let late = reserve(&subject, "late", at: now.addingTimeInterval(121))
        #expect(late.lostChecks.count == 3)
        #expect(late.blocked)
        #expect(subject.blockReason == CheckLock.lostReason)
        #expect(finish(&subject, "c0", matched: true) == .reservationLost)
    }

    /// Random interleavings of right and wrong checks from many tasks on two store instances:
    /// the audit trail, in its one order, must show at most three evaluated wrong secrets between
    /// clearings, no VERIFIED while blocked, and a reason for every block.
    @Test(arguments: 0..<4)
    func randomInterleavingsKeepTheLockExact(seed: Int) async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient(pin: "4829157")
        let second = try CredentialService(
            store: try SQLiteCredentialStore(path: fixture.databasePath, keyring: fixture.hasher.keyring), hasher: fixture.hasher, keyring: fixture.hasher.keyring
        )
        let instances = [fixture.service, second]
        var generator = SeededGenerator(seed: UInt64(seed))
        for _ in 0..<8 {
            let plan = (0..<10).map { _ in (instance: Int.random(in: 0...1, using: &generator), right: Bool.random(using: &generator)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for step in plan {
                    group.addTask {
                        let pin = step.right ? "4829157" : "1111112"
                        do {
                            _ = try await instances[step.instance].verify(id, SecurityFactors(pin: pin), channel: .phone, context: .verifier)
                        } catch let error as CredentialError where error == .checksInProgress {}
                    }
                }
                try await group.waitForAll()
            }
            if try await fixture.service.status(of: id).state == .blocked {
                _ = try await fixture.service.unblock(id, reason: "test round", context: .admin)
            }
        }
        try LockAuditReplay.check(try await fixture.service.auditEvents(for: id, limit: 1000))
        #expect(try await fixture.service.verifyAuditChain().ok)
    }
}

/// Replays a subject's audit trail and checks the lock's promises in its one total order.
enum LockAuditReplay {
    ///
    /// A success clears only the failures its own reservation saw, which the trail's order does
    /// not show; so a block is checked against the failures since the last unblock, the weaker
    /// reading that holds whatever the reservation order.
    static func check(_ events: [AuditEvent]) throws {
        var wrongSinceClearing = 0
        var blocked = false
        var failuresSinceClearing = 0
        for event in events {
            switch (event.action, event.outcome) {
            case (.verify, "VERIFIED"):
                #expect(!blocked, "VERIFIED answered while the subject was blocked (seq \(event.seq))")
                wrongSinceClearing = 0
            case (.verify, "MISMATCH"), (.verify, "ERROR"), (.verify, "LOST"):
                if event.outcome == "MISMATCH" { wrongSinceClearing += 1 }
                failuresSinceClearing += 1
                #expect(wrongSinceClearing <= 3, "a fourth wrong secret was evaluated between clearings (seq \(event.seq))")
            case (.lock, "BLOCKED"):
                #expect(failuresSinceClearing >= 3, "a block without three failures behind it (seq \(event.seq))")
                blocked = true
            case (.unblock, _), (.setSecurityDetails, _):
                blocked = false
                wrongSinceClearing = 0
                failuresSinceClearing = 0
            default:
                break
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so that a failing seed can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49EB_00D1_33EB
        return z ^ (z >> 31)
    }
}

/// The race spin found, through the service: a check of the old PIN finishing after a caseworker
/// set a new one.
@Suite("A check racing new details")
struct CredentialsChangedTests {
    @Test func aCheckOfTheOldPINDoesNotVerifyNorOverwriteTheNewDetails() async throws {
        let fixture = try ServiceFixture()
        let id = try await fixture.activeClient("race-1", pin: "4829157")
        let holder = HoldAfterVerifying(fixture.hasher)
        let held = try CredentialService(store: fixture.store, hasher: holder, keyring: fixture.hasher.keyring)
        let change = Task {
            try await held.change(id, current: SecurityFactors(pin: "4829157"), new: SecurityFactors(pin: "6148203"), context: .verifier)
        }
        // The old PIN has been compared, and matched; its outcome is not recorded yet.
        try await waitUntil { holder.isHolding }
        _ = try await fixture.service.setSecurityDetails(id, SecurityFactors(pin: "5937261"), context: .agent)
        holder.release()
        await #expect(throws: CredentialError.credentialsChanged) { try await change.value }
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "5937261"), channel: .phone, context: .verifier).outcome == .verified)
        #expect(try await fixture.service.verify(id, SecurityFactors(pin: "6148203"), channel: .phone, context: .verifier).outcome == .mismatch)
    }
}

/// Compares a secret, then holds its answer until released: the gap between a check's
/// comparison and the record of its outcome, held open.
final class HoldAfterVerifying: SecretHashing, @unchecked Sendable {
    private let inner: CountingHasher
    private let condition = NSCondition()
    private var holding = false
    private var released = false

    init(_ inner: CountingHasher) { self.inner = inner }

    var isHolding: Bool { condition.withLock { holding } }

    func release() {
        condition.withLock {
            released = true
            condition.broadcast()
        }
    }

    func hash(_ secret: String) throws -> String { try inner.hash(secret) }

    func verify(_ secret: String, against encoded: String) throws -> SecretMatch {
        let result = try inner.verify(secret, against: encoded)
        condition.withLock {
            holding = true
            while !released { condition.wait() }
            holding = false
        }
        return result
    }

    func performDecoyVerification(of secret: String) { inner.performDecoyVerification(of: secret) }
}
