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
///
/// Three budgets: all connections (``maximum``); connections still in their TLS handshake
/// (``maximumHandshaking``), so that clients that never finish one cannot take every slot; and,
/// once the handshake names the caller, connections and requests in flight per caller
/// (certificate CN), so that one caller cannot take what the others need.
final class ConnectionRegistry: Sendable {
    private struct Counts {
        var channels: [ObjectIdentifier: Channel] = [:]
        var handshaking = Set<ObjectIdentifier>()
        var connectionsPerCaller: [String: Int] = [:]
        var requestsPerCaller: [String: Int] = [:]
    }

    private let state = Mutex(Counts())
    private let maximum: Int
    private let maximumHandshaking: Int
    private let maximumPerCaller: Int
    private let maximumRequestsPerCaller: Int
    private let metrics: ServerMetrics

    init(maximum: Int, maximumHandshaking: Int, maximumPerCaller: Int, maximumRequestsPerCaller: Int, metrics: ServerMetrics) {
        self.maximum = maximum
        self.maximumHandshaking = maximumHandshaking
        self.maximumPerCaller = maximumPerCaller
        self.maximumRequestsPerCaller = maximumRequestsPerCaller
        self.metrics = metrics
    }

    /// Adds a new connection, still handshaking, or refuses it when a cap is reached.
    func admit(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state -> Bool in
            guard state.channels.count < maximum, state.handshaking.count < maximumHandshaking else { return false }
            state.channels[id] = channel
            state.handshaking.insert(id)
            metrics.openConnections.record(state.channels.count)
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in
                self.state.withLock { state in
                    state.channels[id] = nil
                    state.handshaking.remove(id)
                    self.metrics.openConnections.record(state.channels.count)
                }
            }
        }
        return admitted
    }

    /// The handshake named the caller: the connection leaves the handshake budget and counts
    /// against its caller's, unless that one is spent (then `false`: close it).
    func verified(_ channel: Channel, caller: String) -> Bool {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state -> Bool in
            state.handshaking.remove(id)
            guard state.connectionsPerCaller[caller, default: 0] < maximumPerCaller else { return false }
            state.connectionsPerCaller[caller, default: 0] += 1
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { _ in
                self.state.withLock { state in
                    state.connectionsPerCaller[caller, default: 1] -= 1
                    if state.connectionsPerCaller[caller] == 0 { state.connectionsPerCaller[caller] = nil }
                }
            }
        }
        return accepted
    }

    /// Takes one of the caller's in-flight requests, unless all are taken.
    func startRequest(of caller: String) -> Bool {
        state.withLock { state in
            guard state.requestsPerCaller[caller, default: 0] < maximumRequestsPerCaller else { return false }
            state.requestsPerCaller[caller, default: 0] += 1
            return true
        }
    }

    func finishRequest(of caller: String) {
        state.withLock { state in
            state.requestsPerCaller[caller, default: 1] -= 1
            if state.requestsPerCaller[caller] == 0 { state.requestsPerCaller[caller] = nil }
        }
    }

    var count: Int { state.withLock { $0.channels.count } }

    /// Closes whatever is still open.
    func closeAll() {
        for channel in state.withLock({ Array($0.channels.values) }) { channel.close(promise: nil) }
    }
}
