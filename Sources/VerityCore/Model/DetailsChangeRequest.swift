//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A request to change a person's security details (procedure 002): raised after three failed
/// checks or at the person's request, it sends a form by letter, waits, reminds, waits again,
/// and is accepted or declined.
///
/// A pure state machine: each act checks the status, changes the request and returns the
/// letter to send, if any; ``CredentialService`` sends it through the outbox in the same
/// transaction. The timed steps are due when ``dueStep(at:)`` says so, and each happens once
/// because it changes what ``dueStep(at:)`` answers.
package struct DetailsChangeRequest: Equatable, Sendable {
    /// Who reported the change, and how.
    package enum Source: String, CaseIterable, Sendable {
        case phone = "PHONE"
        case letter = "LETTER"
        /// The person asked on the self-service site: no form to send, due within 24 hours.
        case selfService = "SELF_SERVICE"
    }

    /// Why the details are to change.
    package enum Reason: String, CaseIterable, Sendable {
        case blockedAfterFailedChecks = "BLOCKED_AFTER_FAILED_CHECKS"
        case clientRequest = "CLIENT_REQUEST"
    }

    package enum Status: String, CaseIterable, Sendable {
        /// Raised on the self-service site, waiting for a caseworker.
        case open = "OPEN"
        /// The form came back; a caseworker assesses it.
        case inProgress = "IN_PROGRESS"
        /// The form (or the reminder) went out; waiting for the person.
        case waiting = "WAITING"
        case accepted = "ACCEPTED"
        case declined = "DECLINED"
        /// Ended without a decision: raised in error, or no longer needed.
        case closed = "CLOSED"

        /// Whether the request still waits for someone to act.
        package var isActive: Bool { [.open, .inProgress, .waiting].contains(self) }
    }

    /// The letters of procedure 002, by their template names.
    package enum Letter: String, CaseIterable, Sendable {
        /// "We need to update your security details", with the form.
        case form = "CMSL9800"
        /// The reminder, seven days later.
        case reminder = "CMSL9801"
        /// "Thank you for updating your security details".
        case confirmation = "CMSL9802"
    }

    /// How an accepted change was confirmed to the person.
    package enum Confirmation: String, CaseIterable, Sendable {
        case sms = "SMS"
        case letter = "LETTER"
        /// Confirmed by e-mail: no agreed text, no postal address, but an e-mail address on file.
        case email = "EMAIL"
        /// No contact on file could carry a confirmation.
        case notSent = "NONE"
    }

    /// What the scheduler does to a request whose due time has passed.
    package enum TimedStep: Equatable, Sendable {
        case sendReminder
        case declineForNoResponse
    }

    /// The waits of the procedure.
    package struct Timing: Equatable, Sendable {
        /// After each letter, before the next step: 7 days.
        package var letterWait: TimeInterval = 7 * 24 * 3600
        /// A self-service request, and a returned form, are actioned within 24 hours.
        package var actionWithin: TimeInterval = 24 * 3600

        package init() {}
    }

    /// The reason the scheduler records when it declines a request.
    package static let noResponseReason = "no response to CMSL9800 and the CMSL9801 reminder"

    package var id: String
    package var subjectID: SubjectID
    package var source: Source
    package var reason: Reason
    /// The person who reported the change (their name and role on the case), as given.
    package var reportedBy: String
    package var status: Status
    /// When the next step is due: the end of a wait, or the time a caseworker should have acted;
    /// `nil` once the request has ended.
    package var dueAt: Date?
    package var createdAt: Date
    package var updatedAt: Date
    package var formSentAt: Date?
    package var reminderSentAt: Date?
    package var formReceivedAt: Date?
    package var closedAt: Date?
    /// Why it was declined or closed.
    package var resolutionReason: String?
    package var confirmation: Confirmation?
    /// Letters of this request that the letter system acknowledged as sent: read from the outbox,
    /// never written with the request.
    package var lettersDelivered: Int

    package init(
        id: String, subjectID: SubjectID, source: Source, reason: Reason, reportedBy: String, status: Status, dueAt: Date?,
        createdAt: Date, updatedAt: Date, formSentAt: Date? = nil, reminderSentAt: Date? = nil, formReceivedAt: Date? = nil,
        closedAt: Date? = nil, resolutionReason: String? = nil, confirmation: Confirmation? = nil, lettersDelivered: Int = 0
    ) {
        self.id = id
        self.subjectID = subjectID
        self.source = source
        self.reason = reason
        self.reportedBy = reportedBy
        self.status = status
        self.dueAt = dueAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.formSentAt = formSentAt
        self.reminderSentAt = reminderSentAt
        self.formReceivedAt = formReceivedAt
        self.closedAt = closedAt
        self.resolutionReason = resolutionReason
        self.confirmation = confirmation
        self.lettersDelivered = lettersDelivered
    }

    /// A new request and the letter it sends: the form for a phone or letter report, nothing for
    /// a self-service one, which a caseworker actions within a day.
    package static func raise(
        id: String, subjectID: SubjectID, source: Source, reason: Reason, reportedBy: String, at now: Date, timing: Timing
    ) -> (DetailsChangeRequest, Letter?) {
        var request = DetailsChangeRequest(
            id: id, subjectID: subjectID, source: source, reason: reason, reportedBy: reportedBy, status: .open,
            dueAt: now.addingTimeInterval(timing.actionWithin), createdAt: now, updatedAt: now
        )
        guard source != .selfService else { return (request, nil) }
        request.status = .waiting
        request.formSentAt = now
        request.dueAt = now.addingTimeInterval(timing.letterWait)
        return (request, .form)
    }

    /// Whether the request's due time has passed while it still waits for someone.
    package func isOverdue(at now: Date) -> Bool {
        guard status.isActive, let dueAt else { return false }
        return now >= dueAt
    }

    /// The timed step due at `now`: only a request waiting for the person has one.
    package func dueStep(at now: Date) -> TimedStep? {
        guard status == .waiting, let dueAt, now >= dueAt else { return nil }
        return reminderSentAt == nil ? .sendReminder : .declineForNoResponse
    }

    /// Takes a timed step: the reminder starts a second wait of its own length from when it goes
    /// out (a reminder sent late, after downtime, still gives the person the whole wait); the
    /// second wait's end declines the request.
    package mutating func take(_ step: TimedStep, at now: Date, timing: Timing) -> Letter? {
        updatedAt = now
        switch step {
        case .sendReminder:
            reminderSentAt = now
            dueAt = now.addingTimeInterval(timing.letterWait)
            return .reminder
        case .declineForNoResponse:
            end(.declined, reason: Self.noResponseReason, at: now)
            return nil
        }
    }

    /// The form came back: the waits stop, and a caseworker assesses it within a day. A form can
    /// only come back once a letter carrying it went out: until then, a change could be accepted
    /// (and a block lifted) with no form at all.
    package mutating func receiveForm(at now: Date, timing: Timing) throws(CredentialError) {
        guard status == .waiting else { throw wrongStatus(for: "receiving the form", allowed: [.waiting]) }
        guard lettersDelivered > 0 else {
            throw .failedPrecondition(reason: "FORM_NOT_SENT", message: "no letter of this request has been sent yet (the letter system acknowledges it SENT first)")
        }
        status = .inProgress
        formReceivedAt = now
        dueAt = now.addingTimeInterval(timing.actionWithin)
        updatedAt = now
    }

    /// Accepts the change. A form was sent, so it must have come back: a request still waiting
    /// is never accepted. Only a returned form lifts a block: a self-service request (no form)
    /// whose person was blocked after it was raised is refused.
    ///
    /// - Parameter personBlocked: whether the person is BLOCKED now (accepting unblocks them).
    package mutating func accept(confirmation: Confirmation, personBlocked: Bool, at now: Date) throws(CredentialError) {
        if personBlocked, formSentAt == nil {
            throw .failedPrecondition(
                reason: "BLOCKED", message: "the person was blocked after this self-service request was raised: close it and raise one by PHONE or LETTER"
            )
        }
        guard status == .open || status == .inProgress else {
            if status == .waiting {
                throw .failedPrecondition(reason: "FORM_NOT_RECEIVED", message: "the form has not come back: record it first (ReceiveForm)")
            }
            throw wrongStatus(for: "accepting", allowed: [.open, .inProgress])
        }
        self.confirmation = confirmation
        end(.accepted, reason: nil, at: now)
    }

    /// Declines the change, with the caseworker's reason.
    package mutating func decline(reason: String, at now: Date) throws(CredentialError) {
        guard status.isActive else { throw wrongStatus(for: "declining", allowed: [.open, .inProgress, .waiting]) }
        end(.declined, reason: reason, at: now)
    }

    /// Ends the request without a decision, with the caseworker's reason.
    package mutating func close(reason: String, at now: Date) throws(CredentialError) {
        guard status.isActive else { throw wrongStatus(for: "closing", allowed: [.open, .inProgress, .waiting]) }
        end(.closed, reason: reason, at: now)
    }

    private mutating func end(_ final: Status, reason: String?, at now: Date) {
        status = final
        resolutionReason = reason
        closedAt = now
        dueAt = nil
        updatedAt = now
    }

    private func wrongStatus(for act: String, allowed: [Status]) -> CredentialError {
        .failedPrecondition(
            reason: status.isActive ? "WRONG_STATUS" : "REQUEST_CLOSED",
            message: "\(act) needs a request that is \(allowed.map(\.rawValue).joined(separator: " or ")); this one is \(status.rawValue)"
        )
    }
}
