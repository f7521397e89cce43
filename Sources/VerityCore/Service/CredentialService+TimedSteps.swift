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

    /// Takes every timed step due now, `batch` requests at a time.
    ///
    /// - Returns: how many steps were taken.
    @discardableResult
    package func takeDueSteps(batch: Int = 100) async throws -> Int {
        var taken = 0
        while true {
            let due = try await store.dueChangeRequests(at: now(), limit: batch)
            var takenNow = 0
            for id in due {
                do {
                    if try await takeDueStep(of: id) { takenNow += 1 }
                } catch {
                    logger.error("a change request's timed step failed; it stays due", metadata: ["change-request": "\(id)", "error": "\(error)"])
                }
            }
            taken += takenNow
            // A short batch was the last; one where nothing moved would come back the same.
            if due.count < batch || takenNow == 0 { return taken }
        }
    }

    /// Takes the step of one request if it is still due.
    ///
    /// - Returns: whether a step was taken (another server, or an act, may have moved it on).
    func takeDueStep(of requestID: String) async throws -> Bool {
        let (time, timing) = (now(), configuration.changeRequestTiming)
        let context = Self.schedulerContext
        let step = try await store.modifyChangeRequest(requestID) { [self] request, subject -> WorkflowWrite<DetailsChangeRequest.TimedStep?> in
            guard let step = request.dueStep(at: time) else { return WorkflowWrite(nil, audit: []) }
            let letter = request.take(step, at: time, timing: timing)
            var deliveries: [Delivery] = []
            var facts = ["request \(request.id)"]
            if let letter {
                if let address = subject.contacts.postalAddresses.first {
                    deliveries.append(try letterDelivery(letter, of: request, to: address, at: time))
                    facts += Self.letterFacts(letter)
                } else {
                    facts.append("no postal address on file: letter \(letter.rawValue) not sent")
                }
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
