//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// What the hashing pool has learnt of its own pace: how long a job takes, as a moving average,
/// and so whether a request that must wait can still be answered within its deadline.
///
/// A request that cannot is refused at once, with the time after which a retry can expect to be
/// served, instead of waiting in the queue until its deadline passes: an IVR caller who hangs up
/// after two seconds gains nothing from a check that starts after three, and the work it would
/// take is better spent on a request that can still be answered.
struct HashingLoad: Sendable {
    /// The weight of the newest job in the average: recent enough to follow a change of KDF
    /// cost or machine load within a few jobs, steady enough not to follow one slow job.
    static let weight = 0.2

    /// The average time of one job, in seconds; `nil` until a job has finished.
    private(set) var typicalJobSeconds: Double?

    /// Adds a job's time to the average. One job counts for at most four times the average: a
    /// job held up by something rare (a busy store, a slow disk) moves the pace a little, and
    /// the jobs after it bring it back, instead of one outlier making every short deadline look
    /// unreachable; a lasting slowdown is still followed within a few jobs.
    mutating func record(jobSeconds: Double) {
        guard let typical = typicalJobSeconds else {
            typicalJobSeconds = jobSeconds
            return
        }
        typicalJobSeconds = typical + Self.weight * (min(jobSeconds, 4 * typical) - typical)
    }

    /// How long a job that waits behind `ahead` others may have to wait for a place among
    /// `concurrency` running ones: counted as if the running jobs had just started, so that a
    /// job admitted is answered in time even when the jobs before it are slower than usual
    /// (with half-done jobs assumed, one served request in a hundred came late).
    func expectedWait(ahead: Int, concurrency: Int) -> Double? {
        typicalJobSeconds.map { Double(ahead / max(1, concurrency) + 1) * $0 }
    }

    /// The share of the time left that the expected wait and work may fill: jobs vary, and a
    /// request admitted on an estimate that fills all of it is late whenever the jobs before it
    /// run a little long.
    static let margin = 0.85

    /// `nil` when a job waiting behind `ahead` others can be answered within `remainingSeconds`;
    /// otherwise the seconds after which a retry can expect a place.
    func refusal(ahead: Int, concurrency: Int, remainingSeconds: Double) -> Double? {
        guard let job = typicalJobSeconds, let wait = expectedWait(ahead: ahead, concurrency: concurrency) else { return nil }
        return wait + job > Self.margin * remainingSeconds ? wait : nil
    }
}
