//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import Testing
import VerityProtocol
import VerityTLS

@testable import VerityServer

/// The connection's rules, event by event, without a channel.
@Suite("The connection state machine")
struct ConnectionStateMachineTests {
    static let agent = Caller(identity: PeerIdentity(commonName: "casework", organizationalUnit: "agent"))
    static let stranger = Caller(identity: PeerIdentity(commonName: "casework", organizationalUnit: "printer"))

    static func frame(_ id: Int64, method: String = "verity.v1.Health/Check") -> Result<Result<RequestEnvelope, RejectedRequest>, FrameViolation> {
        .success(try! RequestEnvelope.parse(ByteBuffer(string: #"{"id": \#(id), "method": "\#(method)"}"#)))
    }

    static func serving(maximumInFlight: Int = 2) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(maximumInFlight: maximumInFlight)
        #expect(machine.callerVerified(agent, admitted: true) == .none)
        return machine
    }

    /// Starts request `id` through the budget step, as the handler does.
    static func start(_ id: Int64, on machine: inout ConnectionStateMachine) -> ConnectionStateMachine.Action {
        guard case let .askCallerBudget(request) = machine.frameReceived(frame(id)) else { return .none }
        return machine.callerBudget(granted: true, for: request, methodIsKnown: true)
    }

    @Test func nothingIsServedBeforeTheCallerIsKnown() {
        var machine = ConnectionStateMachine(maximumInFlight: 2)
        #expect(machine.frameReceived(Self.frame(1)) == .none)
        #expect(machine.callerVerified(Self.agent, admitted: false) == .close)
    }

    @Test func aRequestRunsAndItsAnswerIsWritten() {
        var machine = Self.serving()
        guard case .run(_, Self.agent, .agent) = Self.start(1, on: &machine) else {
            Issue.record("the request did not run")
            return
        }
        #expect(machine.inFlight == [1])
        #expect(machine.requestFinished(1) == .write)
        #expect(machine.answersInTransit == 1)
        #expect(machine.answerWritten() == .none)
        #expect(machine.answersInTransit == 0)
    }

    @Test func aDuplicateIDInFlightIsAViolation() {
        var machine = Self.serving()
        _ = Self.start(7, on: &machine)
        #expect(machine.frameReceived(Self.frame(7)) == .answerViolationAndClose(.duplicateID(7)))
        #expect(machine.frameReceived(Self.frame(8)) == .none, "nothing is read after a violation")
    }

    @Test func theConnectionLevelChecksComeInOrder() {
        var machine = Self.serving(maximumInFlight: 1)
        _ = Self.start(1, on: &machine)
        guard case let .answer(2, error) = machine.frameReceived(Self.frame(2)) else {
            Issue.record("the in-flight limit was not applied")
            return
        }
        #expect(error.details["reason"] == "TOO_MANY_IN_FLIGHT")
        var stranger = ConnectionStateMachine(maximumInFlight: 2)
        _ = stranger.callerVerified(Self.stranger, admitted: true)
        guard case let .answer(3, unauthenticated) = stranger.frameReceived(Self.frame(3)) else {
            Issue.record("an unknown role was served")
            return
        }
        #expect(unauthenticated.code == .unauthenticated)
        var limited = Self.serving()
        guard case let .askCallerBudget(request) = limited.frameReceived(Self.frame(4)),
              case let .answer(4, exhausted) = limited.callerBudget(granted: false, for: request, methodIsKnown: true)
        else {
            Issue.record("the caller's budget was not asked")
            return
        }
        #expect(exhausted.details["reason"] == "CALLER_LIMIT")
        guard case let .askCallerBudget(unknown) = limited.frameReceived(Self.frame(5, method: "verity.v1.Nope/Nope")) else {
            Issue.record("an unknown method did not go through the caller's budget")
            return
        }
        #expect(limited.callerBudget(granted: true, for: unknown, methodIsKnown: false) == .answerUnknownMethod(unknown))
    }

    /// A peer that does not read its answers stops being read; reading resumes when the channel
    /// is writable again and the answers in transit fall under the limit.
    @Test func readsAreHeldBackWhileAnswersPileUp() {
        var machine = Self.serving(maximumInFlight: 2)
        #expect(machine.readRequested() == .read)
        _ = Self.start(1, on: &machine)
        _ = Self.start(2, on: &machine)
        #expect(machine.readRequested() == .none, "two in flight: the budget is spent")
        #expect(machine.requestFinished(1) == .write)
        #expect(machine.requestFinished(2) == .write)
        #expect(machine.writabilityChanged(isWritable: false) == .none)
        #expect(machine.answerWritten() == .none, "not writable: still held back")
        #expect(machine.writabilityChanged(isWritable: true) == .read)
        #expect(machine.readRequested() == .read)
    }

    @Test func errorAnswersCountAgainstTheBudgetUntilWritten() {
        var stranger = ConnectionStateMachine(maximumInFlight: 1)
        _ = stranger.callerVerified(Self.stranger, admitted: true)
        _ = stranger.frameReceived(Self.frame(1))
        #expect(stranger.readRequested() == .none)
        #expect(stranger.answerWritten() == .read)
    }

    @Test func drainingAnswersWhatIsInFlightRefusesTheRestThenCloses() {
        var machine = Self.serving()
        _ = Self.start(1, on: &machine)
        #expect(machine.drain() == .none)
        guard case let .answer(2, error) = machine.frameReceived(Self.frame(2)) else {
            Issue.record("a new request was not refused while draining")
            return
        }
        #expect(error.code == .unavailable)
        #expect(machine.requestFinished(1) == .writeAndClose)
        var idle = Self.serving()
        #expect(idle.drain() == .close)
    }

    @Test func anIdleConnectionClosesOnlyWithNothingInFlightOrHalfReceived() {
        var machine = Self.serving()
        _ = Self.start(1, on: &machine)
        #expect(machine.idle(hasPartialFrame: false) == .none)
        _ = machine.requestFinished(1)
        #expect(machine.idle(hasPartialFrame: true) == .none)
        #expect(machine.idle(hasPartialFrame: false) == .close)
    }

    @Test func closingWithWorkInFlightDropsItsWaitingWork() {
        var machine = Self.serving()
        _ = Self.start(1, on: &machine)
        #expect(machine.channelClosed() == .cancelWaitingWork)
        #expect(machine.requestFinished(1) == .none, "no answer is written to a closed connection")
    }
}
