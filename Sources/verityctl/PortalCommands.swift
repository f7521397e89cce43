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

/// `verityctl portal`: the caseworker's side of portal registration (procedure 001).
struct PortalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal",
        abstract: "Start a person's registration on the self-service portal.",
        subcommands: [Invite.self]
    )

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "invite",
            abstract: "E-mail the person a single-use registration link (to the e-mail address on file)."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String

        func run() async throws {
            try await Console.run(options) { client in
                let started = try await client.startRegistration(subjectId: subject, actor: options.actorName)
                if options.json { try Console.printJSON(started); return 0 }
                Console.printTable([("sent to", started.maskedDestination), ("expires at", started.expiresAt)])
                return 0
            }
        }
    }
}

/// `verityctl links`: the counties' queues of portal account links (procedure 003).
struct LinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Search, show, link and reject requests to link a portal account to a person; unlink an account.",
        discussion: """
            A portal account links by itself when every fact matches and the person passed a one-time \
            code; otherwise a request waits in the queue of every county where the person is the \
            primary applicant. Linking one processes the others made at the same time.
            """,
        subcommands: [Search.self, Show.self, Link.self, Reject.self, Unlink.self]
    )

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "search", abstract: "Search the queues, oldest first, a page at a time.")

        @OptionGroup var options: ConnectionOptions
        @Option(help: "PENDING, PROCESSED or REJECTED (repeatable; PENDING when none).") var status: [LinkRequestStatusName] = []
        @Option(help: "Part of the registrant's name.") var name: String?
        @Option(help: "Only this county's queue.") var county: String?
        @Option(help: "Requested at or after this RFC 3339 time.") var from: String?
        @Option(help: "Requested at or before this RFC 3339 time.") var to: String?
        @Option(help: "Requests on a page, 1 to 100.") var pageSize = 25
        @Option(help: "The page after the one that printed this token.") var pageToken: String?

        func run() async throws {
            let filter = SearchLinkRequestsRequest(
                statuses: status.isEmpty ? nil : status, registrantName: name, county: county, requestedFrom: from, requestedTo: to,
                pageSize: pageSize, pageToken: pageToken
            )
            try await Console.run(options) { client in
                let page = try await client.searchLinkRequests(filter, actor: options.actorName)
                if options.json { try Console.printJSON(page); return 0 }
                for request in page.linkRequests {
                    print("\(request.linkRequestId)  \(request.requestedAt)  \(request.county)  \(request.registrantName)  \(request.status.rawValue)  \(request.holds.map(\.rawValue).joined(separator: ","))")
                }
                if page.linkRequests.isEmpty { print("No link request matches.") }
                if let next = page.nextPageToken { print("More: --page-token \(next)") }
                return 0
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a request with the person's cases and link.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The link request's id.") var request: String

        func run() async throws {
            try await Console.run(options) { client in
                let shown = try await client.showLinkRequest(linkRequestId: request, actor: options.actorName)
                if options.json { try Console.printJSON(shown); return 0 }
                LinksCommand.show(shown.linkRequest)
                Console.printTable([
                    ("customer privacy", shown.customerPrivacyActive ? "ACTIVE" : "none"),
                    ("linked now", shown.link.map { "\($0.portalAccountId) (\($0.method.rawValue), \($0.linkedAt))" } ?? "no"),
                ])
                for linkCase in shown.cases {
                    let roles = [linkCase.primaryApplicant ? "primary applicant" : "not primary", linkCase.permanentlyOutOfHome ? "out of the home" : nil,
                                 linkCase.childrenServicesActive ? "Children Services active" : nil].compactMap { $0 }
                    print("case …\(linkCase.caseNumberEnding)  \(linkCase.county)  \(roles.joined(separator: ", "))")
                }
                return 0
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "link", abstract: "Link the request's account (after confirming who the person is); its other counties' requests are processed too."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The link request's id.") var request: String

        func run() async throws {
            try await Console.run(options) { client in
                let processed = try await client.linkAccount(linkRequestId: request, actor: options.actorName)
                if options.json { try Console.printJSON(processed); return 0 }
                for request in processed.linkRequests { print("\(request.linkRequestId)  \(request.county)  \(request.status.rawValue)") }
                return 0
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a request, with a reason; other counties' requests stay pending.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The link request's id.") var request: String
        @Option(help: "Why, for the audit trail.") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let rejected = try await client.rejectLinkRequest(linkRequestId: request, reason: reason, actor: options.actorName)
                if options.json { try Console.printJSON(rejected) } else { LinksCommand.show(rejected) }
                return 0
            }
        }
    }

    struct Unlink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unlink", abstract: "Unlink a person's portal account (admin); they are queued to be linked again."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Option(help: "Why, for the audit trail.") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let queued = try await client.unlinkAccount(subjectId: subject, reason: reason, actor: options.actorName)
                if options.json { try Console.printJSON(queued); return 0 }
                print("Unlinked. Queued again in: \(queued.linkRequests.map(\.county).joined(separator: ", "))")
                return 0
            }
        }
    }

    static func show(_ request: LinkRequestMessage) {
        Console.printTable([
            ("request", request.linkRequestId), ("registrant", request.registrantName), ("county", request.county), ("status", request.status.rawValue),
            ("origin", request.origin.rawValue), ("holds", request.holds.map(\.rawValue).joined(separator: ", ")), ("requested at", request.requestedAt),
            ("portal account", request.portalAccountId), ("subject", request.subjectId), ("decided at", request.decidedAt), ("decision", request.decision),
        ])
    }
}
