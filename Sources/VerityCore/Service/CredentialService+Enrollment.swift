//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

extension CredentialService {
    /// Enrols a person. A new subject is NOT_SET_UP.
    ///
    /// A representative names the client they act for, and gets security details of their own.
    package func enroll(
        _ id: SubjectID,
        kind: SubjectKind,
        representing represented: SubjectID? = nil,
        contacts: Contacts = Contacts(),
        context: CallContext
    ) async throws -> SubjectStatus {
        let contacts = try contacts.validated()
        switch (kind, represented) {
        case (.representative, nil):
            throw CredentialError.invalidArgument(
                field: "representsSubjectId", reason: "REQUIRED", message: "a representative names the client they represent"
            )
        case (.client, .some):
            throw CredentialError.invalidArgument(
                field: "representsSubjectId", reason: "NOT_ALLOWED", message: "only a representative represents someone"
            )
        case (.representative, let represented?):
            // Subjects are never deleted and never change kind, so this read stays true.
            guard let client = try await store.subject(represented) else { throw CredentialError.notFound(represented) }
            guard client.kind == .client else {
                throw CredentialError.failedPrecondition(reason: "NOT_A_CLIENT", message: "a representative represents a client, not another representative")
            }
        case (.client, nil):
            break
        }
        let time = now()
        let subject = Subject(id: id, kind: kind, representsSubjectID: represented, contacts: contacts, createdAt: time, updatedAt: time)
        var facts = ["kind: \(kind.rawValue)"]
        if let represented { facts.append("represents: \(represented)") }
        try await store.insert(subject, audit: draft(.enroll, "OK", subject: id, context: context, facts: facts))
        log("subject enrolled", subject: id, context: context, ["kind": "\(kind.rawValue)"])
        return SubjectStatus(subject)
    }

    /// Replaces the e-mail addresses and phones on file.
    package func updateContacts(_ id: SubjectID, to contacts: Contacts, context: CallContext) async throws {
        let contacts = try contacts.validated()
        let audit = draft(
            .updateContacts, "OK", subject: id, context: context,
            facts: contacts.emails.map { "e-mail: \(Self.mask($0, channel: .email))" }
                + contacts.phones.map { "phone \($0.type.rawValue): \(Self.mask($0.number, channel: .sms))" }
                + contacts.postalAddresses.map { "postal address: \($0.postalCode.prefix($0.postalCode.count / 2))***" }
        )
        let time = now()
        try await store.modify(id) { subject in
            subject.contacts = contacts
            subject.updatedAt = time
            return SubjectModification((), audit: [audit])
        }
        log("contacts updated", subject: id, context: context)
    }

    /// Sets a person's PIN, password or both: the first set-up, or a replacement after their
    /// identity was confirmed out of band. The old details are replaced, never shown.
    ///
    /// A refused secret changes nothing. A BLOCKED subject must be unblocked first.
    /// - Returns: the new state, ACTIVE.
    package func setSecurityDetails(_ id: SubjectID, _ details: SecurityFactors, context: CallContext) async throws -> SubjectState {
        try checkPolicies(details)
        guard let current = try await store.subject(id) else { throw CredentialError.notFound(id) }
        guard current.state != .blocked else { throw CredentialError.blockedSubject }
        let hashes = try await hash(details)
        let audit = draft(.setSecurityDetails, "OK", subject: id, context: context, facts: details.names.map { "\($0) set" })
        let time = now()
        let state = try await store.modify(id) { subject in
            guard subject.state != .blocked else { throw CredentialError.blockedSubject }
            hashes.apply(to: &subject.credentials)
            subject.state = .active
            CheckLock.reset(&subject)
            subject.updatedAt = time
            return SubjectModification(subject.state, audit: [audit])
        }
        log("security details set", subject: id, context: context, ["factors": "\(details.names.joined(separator: ","))"])
        return state
    }

    /// Marks that the person could not be reached or refused: their PIN and password are
    /// removed, and nothing can be verified until real details are set. No default secret exists.
    package func applyDefaults(_ id: SubjectID, context: CallContext) async throws -> SubjectState {
        let audit = draft(.applyDefaults, "OK", subject: id, context: context, facts: ["PIN and password removed"])
        let time = now()
        let state = try await store.modify(id) { subject in
            guard subject.state != .blocked else { throw CredentialError.blockedSubject }
            subject.state = .defaultsApplied
            subject.credentials.pinHash = nil
            subject.credentials.passwordHash = nil
            subject.credentials.spokenPasswordHash = nil
            CheckLock.reset(&subject)
            subject.updatedAt = time
            return SubjectModification(subject.state, audit: [audit])
        }
        log("defaults applied", subject: id, context: context)
        return state
    }

    /// Checks new secrets against the policies without storing anything, so that a server can
    /// refuse a bad choice before it queues any hashing work.
    package func checkPolicies(_ details: SecurityFactors, fieldPrefix: String = "") throws(CredentialError) {
        try details.checkOffered(prefix: fieldPrefix)
        let fields = SecurityFactors.fields(prefix: fieldPrefix)
        do {
            if let pin = details.pin {
                try configuration.pinPolicy.check(pin, field: fields.pin)
            }
            if let password = details.password {
                try configuration.passwordPolicy.check(password, pin: details.pin, field: fields.password)
            }
        } catch {
            throw error.credentialError
        }
    }

    /// Hashes new secrets, the password in both its forms.
    func hash(_ details: SecurityFactors) async throws -> NewCredentialHashes {
        try await hashing.run { [hasher] in
            NewCredentialHashes(
                pin: try details.pin.map { try hasher.hash($0) },
                password: try details.password.map { try hasher.hash(PasswordForm.exact.normalize($0)) },
                spokenPassword: try details.password.map { try hasher.hash(PasswordForm.spoken.normalize($0)) }
            )
        }
    }
}

/// Hashes of newly chosen secrets, ready to replace the stored ones.
struct NewCredentialHashes: Sendable {
    var pin: String?
    var password: String?
    var spokenPassword: String?

    func apply(to credentials: inout StoredCredentials) {
        if let pin { credentials.pinHash = pin }
        if let password { credentials.passwordHash = password }
        if let spokenPassword { credentials.spokenPasswordHash = spokenPassword }
    }
}
