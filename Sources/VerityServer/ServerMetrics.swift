//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import CoreMetrics
import Foundation
import Synchronization

/// The service's metrics, through swift-metrics (exported for Prometheus by `verityd`).
public struct ServerMetrics: Sendable {
    public let openConnections = Gauge(label: "verity_open_connections")
    public let hashingQueueDepth = Gauge(label: "verity_hashing_queue_depth")
    public let unblocks = Counter(label: "verity_unblocks_total")
    /// Checks whose stored credential could not be evaluated (counted as failures): each one
    /// needs an operator, so it is worth an alert.
    public let credentialErrors = Counter(label: "verity_credential_errors_total")
    /// Change requests past their due time that still wait for a caseworker (or for a postal
    /// address before their reminder can go out): worth an alert when it grows.
    public let overdueChangeRequests = Gauge(label: "verity_change_requests_overdue")
    /// Link requests pending in the counties' queues.
    public let pendingLinkRequests = Gauge(label: "verity_link_requests_pending")
    /// Timed steps the scheduler took: reminders and automatic declines.
    public let timedSteps = Counter(label: "verity_timed_steps_total")

    /// The counter and timer of each method and status, made once: making a metric asks the
    /// factory's registry (a lock and a lookup by name and labels) on every request otherwise.
    private let requestMetrics = RequestMetrics()

    public init() {}

    /// Counts a lock, by the caller whose check caused it: certificate CNs come from the
    /// agency's own CA, so their number is bounded.
    public func recordLock(caller: String) {
        Counter(label: "verity_locks_total", dimensions: [("caller", caller)]).increment()
    }

    /// Counts one finished request and its duration, by method and status.
    public func recordRequest(method: String, status: String, duration: Duration) {
        let (counter, timer) = requestMetrics.metrics(method: method, status: status)
        counter.increment()
        timer.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}

/// The request metrics by method and status, each made on first use. Methods and statuses are
/// the known ones (an unknown method is counted under one name), so the table stays small.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var status: String
    }

    private let made = Mutex<[Key: (Counter, CoreMetrics.Timer)]>([:])

    func metrics(method: String, status: String) -> (Counter, CoreMetrics.Timer) {
        let key = Key(method: method, status: status)
        return made.withLock { made in
            if let metrics = made[key] { return metrics }
            let dimensions = [("method", method), ("status", status)]
            let metrics = (Counter(label: "verity_requests_total", dimensions: dimensions), CoreMetrics.Timer(label: "verity_request_duration_seconds", dimensions: dimensions))
            made[key] = metrics
            return metrics
        }
    }
}
