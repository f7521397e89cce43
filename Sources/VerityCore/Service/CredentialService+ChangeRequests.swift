//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Changing a person's security details by request (procedure 002): the form by letter, the
/// waits, the reminder, and the caseworker's decision.
extension CredentialService {
    /// Raises a change request. A phone or letter report sends the form (CMSL9800) to the postal
    /// address on file and waits; a self-service one waits for a caseworker, for 24 hours.
    package func raiseChangeRequest(
        for id: SubjectID, source: DetailsChangeRequest.Source, reason: DetailsChangeRequest.Reason, reportedBy: String, context: CallContext
    ) async throws -> DetailsChangeRequest {
        let reportedBy = try Self.reporter(reportedBy)
        let time = now()
        let timing = configuration.changeRequestTiming
        let requestID = Self.randomID()
        let request = try await store.insertChangeRequest(for: id) { [self] subject, active in
            try Self.checkCanRaise(for: subject, source: source, reason: reason, active: active)
            let (request, letter) = DetailsChangeRequest.raise(
                id: requestID, subjectID: id, source: source, reason: reason, reportedBy: reportedBy, at: time, timing: timing
            )
            var deliveries: [Delivery] = []
            if let letter {
                guard let address = subject.contacts.postalAddresses.first else {
                    throw CredentialError.failedPrecondition(reason: "NO_POSTAL_ADDRESS", message: "the form goes by letter: put a postal address on file first")
                }
                deliveries.append(try letterDelivery(letter, of: request, to: address, at: time))
            }
            let audit = draft(.raiseChangeRequest, request.status.rawValue, subject: id, context: context, facts: [
                "request \(request.id)", "source: \(source.rawValue)", "reason: \(reason.rawValue)",
            ] + Self.letterFacts(letter))
            return WorkflowWrite(request, deliveries: deliveries, audit: [audit])
        }
        log("change request raised", subject: id, context: context, ["change-request": "\(request.id)", "source": "\(source.rawValue)"])
        return request
    }

    /// The request with this id.
    package func changeRequest(_ requestID: String) async throws -> DetailsChangeRequest {
        guard let request = try await store.changeRequest(requestID) else { throw Self.unknownRequest(requestID) }
        return request
    }

    /// A page of requests, oldest first, and the cursor of the next page when there is one.
    package func changeRequests(matching query: ChangeRequestQuery, overdueOnly: Bool) async throws -> (requests: [DetailsChangeRequest], next: PageCursor?) {
        guard (1...100).contains(query.limit) else {
            throw CredentialError.invalidArgument(field: "pageSize", reason: "OUT_OF_RANGE", message: "pageSize is 1 to 100")
        }
        var query = query
        if overdueOnly {
            let active = DetailsChangeRequest.Status.allCases.filter(\.isActive)
            query.statuses = query.statuses.isEmpty ? Set(active) : query.statuses.intersection(active)
            let time = now()
            query.dueAtOrBefore = min(query.dueAtOrBefore ?? time, time)
            guard !query.statuses.isEmpty else { return ([], nil) }
        }
        let limit = query.limit
        query.limit = limit + 1
        let found = try await store.changeRequests(matching: query)
        let page = Array(found.prefix(limit))
        let next = found.count > limit ? page.last.map { PageCursor(time: $0.createdAt, id: $0.id) } : nil
        return (page, next)
    }

    /// The form came back: the waits stop and a caseworker assesses it.
    package func receiveChangeRequestForm(_ requestID: String, of subject: SubjectID, context: CallContext) async throws -> DetailsChangeRequest {
        let (time, timing) = (now(), configuration.changeRequestTiming)
        return try await store.modifyChangeRequest(requestID) { [self] request, _ in
            try Self.checkBelongs(request, to: subject)
            try request.receiveForm(at: time, timing: timing)
            let audit = draft(.receiveChangeRequestForm, request.status.rawValue, subject: subject, context: context, facts: ["request \(request.id)"])
            return WorkflowWrite(request, audit: [audit], withdrawsPendingLetters: true)
        }
    }

    /// Accepts the change: sets the new details and, where the person is blocked, unblocks them,
    /// in one transaction with one audit event per act; then confirms it by a text when the
    /// person agreed and a phone that takes texts is on file, or else by letter CMSL9802.
    package func acceptChangeRequest(
        _ requestID: String, of subject: SubjectID, newDetails: SecurityFactors, confirmBySMS: Bool, context: CallContext
    ) async throws -> (request: DetailsChangeRequest, state: SubjectState) {
        try checkPolicies(newDetails, fieldPrefix: "new")
        guard let current = try await store.changeRequest(requestID), current.subjectID == subject else {
            throw Self.unknownRequest(requestID)
        }
        var preview = current
        try preview.accept(confirmation: .notSent, personBlocked: false, at: now())
        let hashes = try await hash(newDetails)
        let time = now()
        let accepted = try await store.modifyChangeRequest(requestID) { [self] request, person in
            try Self.checkBelongs(request, to: subject)
            let route = Self.confirmationRoute(person.contacts, bySMS: confirmBySMS)
            try request.accept(confirmation: route.kind, personBlocked: person.state == .blocked, at: time)
            let confirmation = try confirmationDelivery(of: request, by: route, at: time)
            var audit: [AuditDraft] = []
            if person.state == .blocked {
                person.blockedAt = nil
                person.blockReason = nil
                audit.append(draft(.unblock, "OK", subject: subject, context: context, facts: ["reason: change request \(request.id) accepted"]))
            }
            hashes.apply(to: &person.credentials)
            person.state = .active
            CheckLock.reset(&person)
            person.updatedAt = time
            audit.append(draft(.setSecurityDetails, "OK", subject: subject, context: context, facts: newDetails.names.map { "\($0) set" }))
            audit.append(draft(.acceptChangeRequest, "ACCEPTED", subject: subject, context: context, facts: [
                "request \(request.id)", "confirmation: \(route.kind.rawValue)",
            ] + confirmation.facts))
            return WorkflowWrite((request, person.state), deliveries: confirmation.deliveries, audit: audit, withdrawsPendingLetters: true)
        }
        log("change request accepted", level: .notice, subject: subject, context: context, ["change-request": "\(requestID)"])
        return accepted
    }

    /// Declines the change, with the caseworker's reason.
    package func declineChangeRequest(_ requestID: String, of subject: SubjectID, reason: String, context: CallContext) async throws -> DetailsChangeRequest {
        let reason = try Self.auditedReason(reason, of: "declining a change request")
        let time = now()
        return try await store.modifyChangeRequest(requestID) { [self] request, _ in
            try Self.checkBelongs(request, to: subject)
            try request.decline(reason: reason, at: time)
            let audit = draft(.declineChangeRequest, "DECLINED", subject: subject, context: context, facts: ["request \(request.id)", "reason: \(reason)"])
            return WorkflowWrite(request, audit: [audit], withdrawsPendingLetters: true)
        }
    }

    /// Ends the request without a decision (raised in error, no longer needed), with a reason.
    package func closeChangeRequest(_ requestID: String, of subject: SubjectID, reason: String, context: CallContext) async throws -> DetailsChangeRequest {
        let reason = try Self.auditedReason(reason, of: "closing a change request")
        let time = now()
        return try await store.modifyChangeRequest(requestID) { [self] request, _ in
            try Self.checkBelongs(request, to: subject)
            try request.close(reason: reason, at: time)
            let audit = draft(.closeChangeRequest, "CLOSED", subject: subject, context: context, facts: ["request \(request.id)", "reason: \(reason)"])
            return WorkflowWrite(request, audit: [audit], withdrawsPendingLetters: true)
        }
    }

    /// The longest `reportedBy` kept, in Unicode scalars.
    package static let maximumReporterLength = 200

    /// Who reported a change, as kept: the rules of a reason, under its own field.
    package static func reporter(_ reportedBy: String) throws(CredentialError) -> String {
        try keptText(
            reportedBy, field: "reportedBy", called: "reportedBy", maximumLength: maximumReporterLength,
            whenMissing: "name the person who reported the change, and their role on the case"
        )
    }

    private static func checkCanRaise(
        for subject: Subject, source: DetailsChangeRequest.Source, reason: DetailsChangeRequest.Reason, active: DetailsChangeRequest?
    ) throws(CredentialError) {
        guard subject.kind == .client else {
            throw .failedPrecondition(reason: "REPRESENTATIVE", message: "a representative's security details are maintained with the representative, not by a change request")
        }
        guard subject.state == .active || subject.state == .blocked else {
            throw .failedPrecondition(reason: "NOT_SET_UP", message: "the subject has no security details to change: set them up first")
        }
        if reason == .blockedAfterFailedChecks, subject.state != .blocked {
            throw .failedPrecondition(reason: "NOT_BLOCKED", message: "the subject is not BLOCKED; raise it with reason CLIENT_REQUEST")
        }
        if let active {
            throw .failedPrecondition(reason: "REQUEST_ACTIVE", message: "change request \(active.id) is still \(active.status.rawValue) for this subject")
        }
        // A blocked person cannot pass the self-service site's checks: their change goes through
        // the form, so that an accept never lifts a block without it.
        if source == .selfService, subject.state == .blocked {
            throw .failedPrecondition(reason: "BLOCKED", message: "a BLOCKED person's change goes through the form: raise it by PHONE or LETTER")
        }
    }

    private static func checkBelongs(_ request: DetailsChangeRequest, to subject: SubjectID) throws(CredentialError) {
        guard request.subjectID == subject else {
            throw unknownRequest(request.id)
        }
    }

    /// An unknown request, and another subject's, answer alike: a mistyped id reveals nothing.
    static func unknownRequest(_ id: String) -> CredentialError {
        .missing(field: "changeRequestId", message: "no change request \(id)")
    }

    static func letterFacts(_ letter: DetailsChangeRequest.Letter?) -> [String] {
        letter.map { ["letter \($0.rawValue) to the postal address on file"] } ?? []
    }

    /// A letter of the procedure, sealed for the outbox. The form and the reminder expire at the
    /// end of the wait they start (a letter sent later would ask for an answer already too late).
    func letterDelivery(_ letter: DetailsChangeRequest.Letter, of request: DetailsChangeRequest, to address: PostalAddress, at time: Date) throws -> Delivery {
        var variables = ["changeRequestId": request.id, "subjectId": request.subjectID.rawValue]
        if letter != .confirmation, let due = request.dueAt { variables["respondBy"] = Timestamp.string(from: due) }
        let content = DeliveryContent(destination: address.destination, template: letter.rawValue, variables: variables)
        let expiresAt = letter == .confirmation ? time.addingTimeInterval(configuration.changeRequestTiming.letterWait) : request.dueAt ?? time
        return try sealedDelivery(content, channel: .letter, changeRequestID: request.id, createdAt: time, expiresAt: expiresAt)
    }

    /// How an accepted change is confirmed: by text when the person agreed and a phone takes
    /// texts; else by letter CMSL9802; without a postal address, by any contact that can carry
    /// it (a text, then an e-mail), so that a change of details never goes unnoticed.
    static func confirmationRoute(_ contacts: Contacts, bySMS: Bool) -> ConfirmationRoute {
        let textPhone = contacts.phones.first(where: \.type.acceptsTextMessages)?.number
        if bySMS, let textPhone { return .text(textPhone) }
        if let address = contacts.postalAddresses.first { return .letter(address) }
        if let textPhone { return .text(textPhone) }
        if let email = contacts.emails.first { return .email(email) }
        return .none
    }

    /// The delivery that confirms an accepted change, and what the audit trail says of it.
    private func confirmationDelivery(of request: DetailsChangeRequest, by route: ConfirmationRoute, at time: Date) throws -> (deliveries: [Delivery], facts: [String]) {
        let expiresAt = time.addingTimeInterval(configuration.changeRequestTiming.letterWait)
        func message(_ channel: DeliveryChannel, to destination: String) throws -> [Delivery] {
            let variables = ["changeRequestId": request.id, "subjectId": request.subjectID.rawValue]
            let content = DeliveryContent(destination: destination, template: Self.confirmationMessageTemplate, variables: variables)
            return [try sealedDelivery(content, channel: channel, changeRequestID: request.id, createdAt: time, expiresAt: expiresAt)]
        }
        switch route {
        case let .text(number):
            return (try message(.sms, to: number), ["text to \(Self.mask(number, channel: .sms))"])
        case let .email(address):
            return (try message(.email, to: address), ["e-mail to \(Self.mask(address, channel: .email))"])
        case let .letter(address):
            return ([try letterDelivery(.confirmation, of: request, to: address, at: time)], Self.letterFacts(.confirmation))
        case .none:
            return ([], ["no contact on file could carry a confirmation"])
        }
    }

    /// The template of the text or e-mail that confirms an accepted change.
    package static let confirmationMessageTemplate = "SECURITY_DETAILS_UPDATED"
}

/// Where the confirmation of an accepted change goes.
enum ConfirmationRoute {
    case text(String)
    case letter(PostalAddress)
    case email(String)
    case none

    var kind: DetailsChangeRequest.Confirmation {
        switch self {
        case .text: .sms
        case .letter: .letter
        case .email: .email
        case .none: .notSent
        }
    }
}
