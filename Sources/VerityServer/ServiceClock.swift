//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

/// The service's time: the system clock, plus an offset that only a development server (with
/// `Development/AdvanceClock`) or a test ever moves, and only forward, so that a seven-day wait
/// can be watched in a minute.
final class ServiceClock: Sendable {
    private let offset: Mutex<TimeInterval>

    init(offset: TimeInterval = 0) {
        self.offset = Mutex(offset)
    }

    func now() -> Date {
        Date().addingTimeInterval(offset.withLock { $0 })
    }

    /// Moves the clock forward by `seconds`.
    func advance(by seconds: TimeInterval) {
        precondition(seconds >= 0, "the service's clock only moves forward")
        offset.withLock { $0 += seconds }
    }
}
