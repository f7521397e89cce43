//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityProtocol

/// The life of one connection, as a value that takes events and returns what to do: no NIO,
/// no clock, no I/O, so that every rule here is tested without a socket (as postgres-nio's
/// `ConnectionStateMachine`). ``ConnectionHandler`` feeds it the channel's events and carries
/// out the actions.
///
/// It owns the connection-level steps of `proto-spec/errors.md`'s order of checks (a
/// duplicate id, the in-flight limit, shutdown, the role, the caller's budget, the envelope,
/// an unknown method) and the backpressure: reads are held back while the peer does not read
/// its answers (the channel is not writable) or while the requests in flight and the answers
/// not yet written reach the limit, and resume when either frees up.
struct ConnectionStateMachine {
    enum State {
        /// Waiting for the TLS handshake to name the caller.
        case awaitingCaller
        case serving(Caller)
        /// Shutting down: requests in flight are answered, new ones refused, then it closes.
        case draining(Caller)
        /// A protocol violation was answered; nothing more is read.
        case violated
        case closed
    }

    /// What the handler must do.
    enum Action: Equatable {
        case none
        /// Pass the pipeline's read on.
        case read
        /// Answer request `id` with `error` at once (an answer that counts until written).
        case answer(id: Int64, RPCError)
        /// Answer a request for a method that does not exist, on the event loop.
        case answerUnknownMethod(RequestEnvelope)
        /// Ask the caller's budget (``callerBudget(granted:for:)`` tells the outcome).
        case askCallerBudget(RequestEnvelope)
        /// Run the request; its answer comes back through ``requestFinished(_:)``.
        case run(RequestEnvelope, Caller, Role)
        /// Write a finished request's answer.
        case write
        /// Write a finished request's answer, then close: the last one of a draining connection.
        case writeAndClose
        /// Answer the violation with id 0, then close.
        case answerViolationAndClose(FrameViolation)
        case close
        /// Drop the work still waiting for this connection, which nobody will read.
        case cancelWaitingWork
    }

    private(set) var state = State.awaitingCaller
    private(set) var inFlight = Set<Int64>()
    /// Answers handed to the channel whose write has not completed.
    private(set) var answersInTransit = 0
    /// A read the pipeline asked for and that is held back.
    private(set) var readHeldBack = false
    private var writable = true
    let maximumInFlight: Int

    init(maximumInFlight: Int) {
        self.maximumInFlight = maximumInFlight
    }

    // MARK: Events

    /// The handshake named the caller, and the registry admitted it (or not).
    mutating func callerVerified(_ caller: Caller, admitted: Bool) -> Action {
        guard case .awaitingCaller = state else { return .none }
        guard admitted else {
            state = .violated
            return .close
        }
        state = .serving(caller)
        return .none
    }

    /// A whole frame arrived and was parsed (or found to break the protocol).
    mutating func frameReceived(_ parsed: Result<Result<RequestEnvelope, RejectedRequest>, FrameViolation>) -> Action {
        let caller: Caller
        switch state {
        case let .serving(serving): caller = serving
        case let .draining(serving): caller = serving
        case .awaitingCaller, .violated, .closed: return .none
        }
        let envelope: Result<RequestEnvelope, RejectedRequest>
        switch parsed {
        case let .failure(violation): return violate(violation)
        case let .success(request): envelope = request
        }
        let id = envelope.requestID
        guard !inFlight.contains(id) else { return violate(.duplicateID(id)) }
        if inFlight.count >= maximumInFlight {
            return answer(id, RPCError(.resourceExhausted, "at most \(maximumInFlight) requests in flight per connection", details: ["reason": "TOO_MANY_IN_FLIGHT"]))
        }
        if case .draining = state { return answer(id, RPCError(.unavailable, "the server is shutting down")) }
        guard caller.role != nil else { return answer(id, RequestExecutor.unauthenticated(caller)) }
        switch envelope {
        case let .failure(rejected): return answer(id, rejected.error)
        case let .success(request): return .askCallerBudget(request)
        }
    }

    /// The caller's budget for `request` (asked by ``Action/askCallerBudget(_:)``): granted, the
    /// request runs, or is answered UNIMPLEMENTED when `methodIsKnown` is false. Unless the
    /// action is ``Action/run(_:_:_:)``, the handler gives a granted budget back.
    mutating func callerBudget(granted: Bool, for request: RequestEnvelope, methodIsKnown: Bool) -> Action {
        guard case let .serving(caller) = state, let role = caller.role else {
            return answer(request.id, RPCError(.unavailable, "the server is shutting down"))
        }
        guard granted else {
            return answer(request.id, RPCError(.resourceExhausted, "this caller has too many requests in flight", details: ["reason": "CALLER_LIMIT"]))
        }
        guard methodIsKnown else {
            answersInTransit += 1
            return .answerUnknownMethod(request)
        }
        inFlight.insert(request.id)
        return .run(request, caller, role)
    }

    /// A request's work finished; its answer is to be written unless the connection closed.
    mutating func requestFinished(_ id: Int64) -> Action {
        inFlight.remove(id)
        switch state {
        case .closed:
            return .none
        case .draining where inFlight.isEmpty:
            answersInTransit += 1
            state = .closed
            return .writeAndClose
        default:
            answersInTransit += 1
            return .write
        }
    }

    /// An answer's write completed (or failed): its place in the budget frees up.
    mutating func answerWritten() -> Action {
        answersInTransit -= 1
        return resumeReadingIfAllowed()
    }

    /// The pipeline asks for more bytes.
    mutating func readRequested() -> Action {
        if mayRead { return .read }
        readHeldBack = true
        return .none
    }

    mutating func writabilityChanged(isWritable: Bool) -> Action {
        writable = isWritable
        return resumeReadingIfAllowed()
    }

    /// The server shuts down: finish what is in flight, refuse what comes, then close.
    mutating func drain() -> Action {
        switch state {
        case let .serving(caller):
            guard inFlight.isEmpty else {
                state = .draining(caller)
                return .none
            }
            state = .closed
            return .close
        case .awaitingCaller:
            state = .closed
            return .close
        case .draining, .violated, .closed:
            return .none
        }
    }

    /// Nothing was read or written for the idle timeout.
    mutating func idle(hasPartialFrame: Bool) -> Action {
        guard inFlight.isEmpty, !hasPartialFrame else { return .none }
        switch state {
        case .closed, .violated: return .none
        default:
            state = .closed
            return .close
        }
    }

    mutating func channelClosed() -> Action {
        state = .closed
        return inFlight.isEmpty ? .none : .cancelWaitingWork
    }

    // MARK: Rules

    /// Whether reading more requests keeps the connection within its budget.
    private var mayRead: Bool {
        writable && inFlight.count + answersInTransit < maximumInFlight
    }

    private mutating func resumeReadingIfAllowed() -> Action {
        guard readHeldBack, mayRead else { return .none }
        if case .closed = state { return .none }
        readHeldBack = false
        return .read
    }

    private mutating func answer(_ id: Int64, _ error: RPCError) -> Action {
        answersInTransit += 1
        return .answer(id: id, error)
    }

    private mutating func violate(_ violation: FrameViolation) -> Action {
        switch state {
        case .serving, .draining:
            state = .violated
            answersInTransit += 1
            return .answerViolationAndClose(violation)
        default:
            return .none
        }
    }
}

extension Result where Success == RequestEnvelope, Failure == RejectedRequest {
    var requestID: Int64 {
        switch self {
        case let .success(request): request.id
        case let .failure(rejected): rejected.id
        }
    }
}
