//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import Synchronization

/// The open connections, so that their number can be capped and a shutdown can reach them.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: Channel]>([:])
    private let maximum: Int
    private let metrics: ServerMetrics

    init(maximum: Int, metrics: ServerMetrics) {
        self.maximum = maximum
        self.metrics = metrics
    }

    /// Adds a new connection, or refuses it when the cap is reached.
    func admit(_ channel: Channel) -> Bool {
        let admitted = channels.withLock { channels -> Bool in
            guard channels.count < maximum else { return false }
            channels[ObjectIdentifier(channel)] = channel
            metrics.openConnections.record(channels.count)
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in
                self.channels.withLock { channels in
                    channels[ObjectIdentifier(channel)] = nil
                    self.metrics.openConnections.record(channels.count)
                }
            }
        }
        return admitted
    }

    var count: Int { channels.withLock { $0.count } }

    /// Asks every connection to finish what it has and close, and returns once each has been told.
    func drainAll() async {
        for channel in channels.withLock({ Array($0.values) }) {
            try? await channel.eventLoop.submit {
                channel.pipeline.fireUserInboundEventTriggered(ServerDrainingEvent())
            }.get()
        }
    }

    /// Closes whatever is still open.
    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}
