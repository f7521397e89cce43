//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import VerityClient
import VerityProtocol

/// `verityctl requests`: changing security details by request (procedure 002).
struct RequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "Raise, list and decide requests to change a person's security details.",
        discussion: """
            A phone or letter report sends the form (letter CMSL9800) and waits 7 days; then the \
            reminder (CMSL9801) and 7 more days; then the request is declined for no response. A \
            self-service request sends nothing and is due within 24 hours.
            """,
        subcommands: [Raise.self, List.self, Show.self, Receive.self, Accept.self, Decline.self, Close.self]
    )

    struct Raise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "raise", abstract: "Raise a change request; a phone or letter report sends the form.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Option(help: "PHONE, LETTER or SELF_SERVICE.") var source: ChangeRequestSourceName = .phone
        @Option(help: "BLOCKED_AFTER_FAILED_CHECKS or CLIENT_REQUEST.") var reason: ChangeRequestReasonName = .clientRequest
        @Option(help: "Who reported the change: their name and role on the case.") var reportedBy: String

        func run() async throws {
            try await Console.run(options) { client in
                let raised = try await client.raiseChangeRequest(subjectId: subject, source: source, reason: reason, reportedBy: reportedBy, actor: options.actorName)
                try RequestsCommand.show(raised, json: options.json)
                return 0
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List change requests, oldest first, a page at a time.")

        @OptionGroup var options: ConnectionOptions
        @Option(help: "OPEN, IN_PROGRESS, WAITING, ACCEPTED, DECLINED or CLOSED (repeatable; any of them).") var status: [ChangeRequestStatusName] = []
        @Option(help: "Only this subject's requests.") var subject: String?
        @Option(help: "Only requests due at or before this RFC 3339 time.") var dueBefore: String?
        @Flag(help: "Only requests past their due time that still wait for someone.") var overdue = false
        @Option(help: "Requests on a page, 1 to 100.") var pageSize = 25
        @Option(help: "The page after the one that printed this token.") var pageToken: String?

        func run() async throws {
            let filter = ListChangeRequestsRequest(
                statuses: status.isEmpty ? nil : status, subjectId: subject, dueBefore: dueBefore, overdue: overdue ? true : nil,
                pageSize: pageSize, pageToken: pageToken
            )
            try await Console.run(options) { client in
                let page = try await client.listChangeRequests(filter, actor: options.actorName)
                if options.json { try Console.printJSON(page); return 0 }
                for request in page.changeRequests {
                    let due = request.dueAt.map { " due \($0)\(request.overdue ? " OVERDUE" : "")" } ?? ""
                    print("\(request.changeRequestId)  \(request.subjectId)  \(request.status.rawValue)  \(request.source.rawValue)\(due)")
                }
                if page.changeRequests.isEmpty { print("No change request matches.") }
                if let next = page.nextPageToken { print("More: --page-token \(next)") }
                return 0
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a change request as it stands now.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The change request's id.") var request: String

        func run() async throws {
            try await Console.run(options) { client in
                try RequestsCommand.show(try await client.changeRequest(changeRequestId: request, actor: options.actorName), json: options.json)
                return 0
            }
        }
    }

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "receive", abstract: "Record that the form came back: the waits stop.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Argument(help: "The change request's id.") var request: String

        func run() async throws {
            try await Console.run(options) { client in
                try RequestsCommand.show(try await client.receiveForm(changeRequestId: request, subjectId: subject, actor: options.actorName), json: options.json)
                return 0
            }
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept",
            abstract: "Accept the change: set the new details, unblock a blocked person, and confirm it.",
            discussion: "The new secrets are asked for without echo, or read from standard input: the PIN first, then the password."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Argument(help: "The change request's id.") var request: String
        @Flag(help: "Set a new 7-digit security PIN.") var pin = false
        @Flag(help: "Set a new special password.") var password = false
        @Flag(help: "The person agreed to a text: confirm by SMS when a phone on file takes texts (otherwise by letter CMSL9802).") var confirmBySms = false

        func validate() throws {
            guard pin || password else { throw ValidationError("say what the person changes: --pin, --password or both") }
        }

        func run() async throws {
            let newPIN = pin ? try Console.readSecret("New PIN", naming: "new PIN") : nil
            let newPassword = password ? try Console.readSecret("New password", naming: "new password") : nil
            try await Console.run(options) { client in
                let accepted = try await client.acceptChangeRequest(
                    changeRequestId: request, subjectId: subject, newPin: newPIN, newPassword: newPassword, confirmBySms: confirmBySms, actor: options.actorName
                )
                if options.json { try Console.printJSON(accepted); return 0 }
                try RequestsCommand.show(accepted.changeRequest, json: false)
                Console.printTable([("subject state", accepted.state.rawValue)])
                return 0
            }
        }
    }

    struct Decline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "decline", abstract: "Decline the change, with a reason.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Argument(help: "The change request's id.") var request: String
        @Option(help: "Why, for the audit trail.") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let declined = try await client.declineChangeRequest(changeRequestId: request, subjectId: subject, reason: reason, actor: options.actorName)
                try RequestsCommand.show(declined, json: options.json)
                return 0
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: "End a request without a decision (raised in error, no longer needed), with a reason.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Argument(help: "The change request's id.") var request: String
        @Option(help: "Why, for the audit trail.") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let closed = try await client.closeChangeRequest(changeRequestId: request, subjectId: subject, reason: reason, actor: options.actorName)
                try RequestsCommand.show(closed, json: options.json)
                return 0
            }
        }
    }

    static func show(_ request: ChangeRequestMessage, json: Bool) throws {
        if json { return try Console.printJSON(request) }
        Console.printTable([
            ("request", request.changeRequestId), ("subject", request.subjectId), ("status", request.status.rawValue),
            ("source", request.source.rawValue), ("reason", request.reason.rawValue), ("reported by", request.reportedBy),
            ("due at", request.dueAt.map { request.overdue ? "\($0) (overdue)" : $0 }), ("form sent", request.formSentAt),
            ("reminder sent", request.reminderSentAt), ("form received", request.formReceivedAt), ("closed at", request.closedAt),
            ("resolution", request.resolutionReason), ("confirmed by", request.confirmation?.rawValue),
        ])
    }
}

/// How far `Development/AdvanceClock` moves in one call.
enum DevelopmentLimits {
    static let year = 365 * 24 * 3600
}

/// `verityctl dev`: what only a development verityd serves.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Development-only acts, against a development verityd started with --dev-clock.",
        subcommands: [AdvanceClock.self]
    )

    struct AdvanceClock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "advance-clock",
            abstract: "Move the service's clock forward and take the timed steps that fell due (reminders, automatic declines)."
        )

        @OptionGroup var options: ConnectionOptions
        @Option(help: "Days to move forward, up to 365.") var days = 0
        @Option(help: "Seconds to move forward, besides the days.") var seconds = 0

        func validate() throws {
            guard (0...365).contains(days), (0...DevelopmentLimits.year).contains(seconds), days > 0 || seconds > 0 else {
                throw ValidationError("say how far: --days (up to 365), --seconds (up to a year) or both")
            }
        }

        func run() async throws {
            let total = days * 24 * 3600 + seconds
            try await Console.run(options) { client in
                let moved = try await client.advanceClock(seconds: total, actor: options.actorName)
                if options.json { try Console.printJSON(moved) } else { Console.printTable([("now", moved.now), ("steps taken", String(moved.stepsTaken))]) }
                return 0
            }
        }
    }
}
