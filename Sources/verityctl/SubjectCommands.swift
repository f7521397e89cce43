//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import VerityClient
import VerityProtocol

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a subject's state, failures and dates.")

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id, such as case-1234567/PWC.") var subject: String

    func run() async throws {
        try await Console.run(options) { client in
            let status = try await client.getStatus(subjectId: subject, actor: options.actorName)
            if options.json { try Console.printJSON(status); return 0 }
            Console.printTable([
                ("subject", status.subjectId), ("kind", status.kind.rawValue), ("represents", status.representsSubjectId),
                ("state", status.state.rawValue), ("consecutive failures", String(status.consecutiveFailures)),
                ("blocked at", status.blockedAt), ("block reason", status.blockReason),
                ("PIN set", status.hasPin ? "yes" : "no"), ("password set", status.hasPassword ? "yes" : "no"),
                ("IVR PIN updated on", status.ivrPinUpdatedAt), ("updated at", status.updatedAt),
            ])
            if status.state == .blocked { print("Unblock with: verityctl unblock \(subject) --reason \"...\"") }
            return 0
        }
    }
}

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Enrol a client or a representative.")

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id.") var subject: String
    @Option(help: "CLIENT or REPRESENTATIVE.") var kind: SubjectKindName = .client
    @Option(help: "The client a representative acts for.") var represents: String?
    @OptionGroup var contactOptions: ContactOptions

    func run() async throws {
        let contacts = contactOptions.isEmpty ? nil : try contactOptions.message()
        try await Console.run(options) { client in
            let enrolled = try await client.enroll(subjectId: subject, kind: kind, representsSubjectId: represents, contacts: contacts, actor: options.actorName)
            if options.json { try Console.printJSON(enrolled); return 0 }
            Console.printTable([("subject", enrolled.subjectId), ("state", enrolled.state.rawValue)])
            print("Next: verityctl set-details \(subject) --pin --password, or verityctl apply-defaults \(subject)")
            return 0
        }
    }
}

struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts", abstract: "Replace the e-mail addresses, phones and postal addresses on file."
    )

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id.") var subject: String
    @OptionGroup var contactOptions: ContactOptions

    func run() async throws {
        let contacts = try contactOptions.message()
        try await Console.run(options) { client in
            try await client.updateContacts(subjectId: subject, contacts: contacts, actor: options.actorName)
            if options.json { try Console.printJSON(UpdateContactsResponse()) } else { print("Contacts replaced.") }
            return 0
        }
    }
}

struct SetDetailsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-details",
        abstract: "Set a subject's PIN, special password or both.",
        discussion: "The secrets are asked for without echo, or read from standard input: the PIN first, then the password."
    )

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id.") var subject: String
    @Flag(help: "Set the 7-digit security PIN.") var pin = false
    @Flag(help: "Set the special password.") var password = false

    func validate() throws {
        guard pin || password else { throw ValidationError("say what to set: --pin, --password or both") }
    }

    func run() async throws {
        let newPIN = pin ? try Console.readSecret("New PIN", naming: "new PIN") : nil
        let newPassword = password ? try Console.readSecret("New password", naming: "new password") : nil
        try await Console.run(options) { client in
            let state = try await client.setSecurityDetails(subjectId: subject, pin: newPIN, password: newPassword, actor: options.actorName)
            if options.json { try Console.printJSON(state) } else { Console.printTable([("state", state.state.rawValue)]) }
            return 0
        }
    }
}

struct ApplyDefaultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply-defaults",
        abstract: "Mark that the person could not be reached or refused: nothing verifies until real details are set."
    )

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id.") var subject: String

    func run() async throws {
        try await Console.run(options) { client in
            let state = try await client.applyDefaults(subjectId: subject, actor: options.actorName)
            if options.json { try Console.printJSON(state) } else { Console.printTable([("state", state.state.rawValue)]) }
            return 0
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a subject's PIN, password or both (a failure counts towards the lock).",
        discussion: "Exits 0 when VERIFIED and 1 otherwise. The secrets are asked for without echo, or read from standard input."
    )

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id.") var subject: String
    @Flag(help: "Check the PIN.") var pin = false
    @Flag(help: "Check the special password.") var password = false
    @Option(help: "PHONE (password compared as spoken) or PORTAL (compared exactly).") var channel: ChannelName = .phone

    func validate() throws {
        guard pin || password else { throw ValidationError("say what to check: --pin, --password or both") }
    }

    func run() async throws {
        let givenPIN = pin ? try Console.readSecret("PIN", naming: "PIN") : nil
        let givenPassword = password ? try Console.readSecret("Password", naming: "password") : nil
        try await Console.run(options) { client in
            let result = try await client.verify(subjectId: subject, pin: givenPIN, password: givenPassword, channel: channel, actor: options.actorName)
            return try Console.report(result.result, attemptsRemaining: result.attemptsRemaining, subject: subject, json: options.json)
        }
    }
}

struct UnblockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unblock", abstract: "Unblock a BLOCKED subject, with a reason for the audit trail.")

    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The subject id.") var subject: String
    @Option(help: "Why the subject is unblocked (required; recorded in the audit trail).") var reason: String

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must say why") }
    }

    func run() async throws {
        try await Console.run(options) { client in
            let state = try await client.unblock(subjectId: subject, reason: reason, actor: options.actorName)
            if options.json { try Console.printJSON(state); return 0 }
            Console.printTable([("state", state.state.rawValue)])
            print("Usually new details come next: verityctl set-details \(subject) --pin --password")
            return 0
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Ask whether verityd is serving.")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        try await Console.run(options) { client in
            let status = try await client.healthCheck()
            if options.json { try Console.printJSON(CheckResponse(status: status)) } else { print(status) }
            return status == .serving ? 0 : 69
        }
    }
}
