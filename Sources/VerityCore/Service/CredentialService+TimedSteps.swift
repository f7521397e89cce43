//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The timed steps of change requests: the reminder after the first wait, the automatic
/// decline after the second.
///
/// Due times are stored, so nothing is lost while no server runs: a server takes every step
/// that fell due on start-up, and then on a timer. Each step is taken in the transaction that
/// re-reads its request and asks it whether the step is still due, so a step is taken once,
/// however many servers or timers look at the same request.
extension CredentialService {
    /// The caller the audit trail names for the scheduler's acts.
    package static let schedulerContext = CallContext(caller: "verityd scheduler", role: "system")

    /// Takes every timed step due now, `batch` requests at a time, each request once per pass: a
    /// request whose step cannot be taken now (no postal address for its reminder, a failure)
    /// stays due for the next pass without holding up the others.
    ///
    /// - Returns: how many steps were taken.
    @discardableResult
    package func takeDueSteps(batch: Int = 100) async throws -> Int {
        let time = now()
        var (taken, after): (Int, PageCursor?) = (0, nil)
        repeat {
            let due = try await store.dueChangeRequests(at: time, after: after, limit: batch)
            for request in due {
                // A shutdown stops between requests: each step is its own transaction.
                try Task.checkCancellation()
                do {
                    if try await takeDueStep(of: request.id) { taken += 1 }
                } catch {
                    logger.error("a change request's timed step failed; it stays due", metadata: ["change-request": "\(request.id)", "error": "\(error)"])
                }
            }
            after = due.count == batch ? due.last : nil
        } while after != nil
        return taken
    }

    /// What waits for caseworkers now: overdue change requests, pending link requests.
    package func workflowBacklog() async throws -> WorkflowBacklog {
        try await store.workflowBacklog(at: now())
    }

    /// Records that a development server's clock moved forward, before the steps that fall due:
    /// the trail then says why a request was reminded or declined early.
    package func recordClockAdvance(by seconds: Int, context: CallContext) async throws {
        try await store.append([draft(.advanceClock, "OK", subject: nil, context: context, facts: ["advanced by \(seconds) s"])])
        log("development clock advanced", level: .notice, subject: nil, context: context, ["seconds": "\(seconds)"])
    }

    /// Takes the step of one request if it is still due.
    ///
    /// - Returns: whether a step was taken (another server, or an act, may have moved it on).
    func takeDueStep(of requestID: String) async throws -> Bool {
        let (time, timing) = (now(), configuration.changeRequestTiming)
        let context = Self.schedulerContext
        let step = try await store.modifyChangeRequest(requestID) { [self] request, subject -> WorkflowWrite<DetailsChangeRequest.TimedStep?> in
            guard let step = request.dueStep(at: time) else { return WorkflowWrite(nil, audit: []) }
            // The reminder must go out before the second wait starts: without an address the
            // request stays due, overdue for a caseworker, and the step is taken once one is on file.
            let address = subject.contacts.postalAddresses.first
            if step == .sendReminder, address == nil { return WorkflowWrite(nil, audit: []) }
            let letter = request.take(step, at: time, timing: timing)
            var deliveries: [Delivery] = []
            var facts = ["request \(request.id)"]
            if let letter, let address {
                deliveries.append(try letterDelivery(letter, of: request, to: address, at: time))
                facts += Self.letterFacts(letter)
            }
            let audit: AuditDraft
            switch step {
            case .sendReminder:
                audit = draft(.remindChangeRequest, request.status.rawValue, subject: request.subjectID, context: context, facts: facts)
            case .declineForNoResponse:
                audit = draft(.declineChangeRequest, "DECLINED", subject: request.subjectID, context: context, facts: facts + ["reason: \(DetailsChangeRequest.noResponseReason)"])
            }
            // The reminder replaces the form, as the decline ends the request: what is still
            // unsent of either no longer asks the right thing.
            return WorkflowWrite(step, deliveries: deliveries, audit: [audit], withdrawsPendingLetters: true)
        }
        if let step {
            logger.info("change request timed step taken", metadata: ["change-request": "\(requestID)", "step": "\(step)"])
        }
        return step != nil
    }
}
