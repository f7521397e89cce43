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

/// `verityctl facts`: the facts on file for a fallback identity check.
struct FactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Set or remove the facts on file that confirm a person who forgot their password.",
        subcommands: [Set.self, Remove.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set facts on file; each kind given replaces the one on file.",
            discussion: "The facts are asked for without echo, or read from standard input one per line: the document's number and issuer, then the city and state of birth, then each child's name and date of birth."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @OptionGroup var facts: FactOptions

        func run() async throws {
            let request = try facts.read(for: subject)
            try await Console.run(options) { client in
                let onFile = try await client.setFacts(request, actor: options.actorName)
                if options.json { try Console.printJSON(FactsOnFileResponse(factsOnFile: onFile)) } else {
                    Console.printTable([("on file", onFile.map(\.rawValue).joined(separator: ", "))])
                }
                return 0
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove facts on file, with a reason.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Option(help: "IDENTITY_DOCUMENT, PLACE_OF_BIRTH or CHILDREN (repeatable).") var fact: [FactKindName] = []
        @Option(help: "Why, for the audit trail.") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let onFile = try await client.removeFacts(subjectId: subject, facts: fact, reason: reason, actor: options.actorName)
                if options.json { try Console.printJSON(FactsOnFileResponse(factsOnFile: onFile)) } else {
                    Console.printTable([("on file", onFile.isEmpty ? "nothing" : onFile.map(\.rawValue).joined(separator: ", "))])
                }
                return 0
            }
        }
    }
}

/// `verityctl recovery`: a person who forgot their password (procedure 000).
struct RecoveryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Confirm a person who forgot their password, by the facts on file; remove a password.",
        subcommands: [Check.self, RemovePassword.self, Open.self, Confirm.self, Show.self]
    )

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "open", abstract: "Open a request that waits for a copy of an identity document (nothing on file confirmed the person)."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String

        func run() async throws {
            try await Console.run(options) { client in
                try RecoveryCommand.show(try await client.openRecoveryRequest(subjectId: subject, actor: options.actorName), json: options.json)
                return 0
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "confirm", abstract: "Confirm the identity document of a recovery request, with a reason.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Argument(help: "The recovery request's id.") var request: String
        @Option(help: "Why the document is accepted, for the audit trail (never a fact itself).") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let confirmed = try await client.confirmRecoveryDocument(recoveryRequestId: request, subjectId: subject, reason: reason, actor: options.actorName)
                try RecoveryCommand.show(confirmed, json: options.json)
                return 0
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a recovery request as it stands now.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The recovery request's id.") var request: String

        func run() async throws {
            try await Console.run(options) { client in
                try RecoveryCommand.show(try await client.recoveryRequest(recoveryRequestId: request, actor: options.actorName), json: options.json)
                return 0
            }
        }
    }

    static func show(_ request: RecoveryRequestResponse, json: Bool) throws {
        if json { return try Console.printJSON(request) }
        Console.printTable([
            ("request", request.recoveryRequestId), ("subject", request.subjectId), ("status", request.status.rawValue),
            ("opened at", request.openedAt), ("expires at", request.expiresAt), ("closed at", request.closedAt),
        ])
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check the facts the person gives; exits 0 when VERIFIED, 1 otherwise.",
            discussion: """
                The identity document is checked when one is on file; otherwise the place of birth \\
                and every child. A wrong fact counts towards the lock, like a wrong PIN.
                """
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @OptionGroup var facts: FactOptions

        func run() async throws {
            let request = try facts.read(for: subject)
            try await Console.run(options) { client in
                let check = try await client.checkFacts(request, actor: options.actorName)
                if options.json { try Console.printJSON(check) } else {
                    Console.printTable([
                        ("result", check.result.rawValue), ("attempts left", String(check.attemptsRemaining)),
                        ("checked", check.checked.map(\.rawValue).joined(separator: ", ")),
                        ("matched", check.matched.map(\.rawValue).joined(separator: ", ")),
                    ])
                }
                return check.result == .verified ? 0 : 1
            }
        }
    }

    struct RemovePassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-password", abstract: "Remove the person's password, with a reason.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Option(help: "Why, for the audit trail.") var reason: String

        func run() async throws {
            try await Console.run(options) { client in
                let state = try await client.removePassword(subjectId: subject, reason: reason, actor: options.actorName)
                if options.json { try Console.printJSON(state) } else { Console.printTable([("state", state.state.rawValue)]) }
                return 0
            }
        }
    }
}

/// Which facts a command takes; their values are read without echo, never from arguments.
struct FactOptions: ParsableArguments {
    @Option(help: "An identity document's kind (DRIVERS_LICENSE, STATE_ID, PASSPORT, OTHER); its number and issuer are asked for.")
    var document: IdentityDocumentKindName?
    @Flag(help: "The place of birth: its city and state are asked for.") var placeOfBirth = false
    @Option(help: "How many children: each one's full name and date of birth are asked for.") var children = 0

    func validate() throws {
        guard document != nil || placeOfBirth || children > 0 else {
            throw ValidationError("Say which facts: --document KIND, --place-of-birth, --children N.")
        }
    }

    func read(for subject: String) throws -> FactsRequest {
        var request = FactsRequest(subjectId: subject)
        if let document {
            request.identityDocument = IdentityDocumentMessage(
                kind: document,
                number: try Console.readSecret("Document number", naming: "document number"),
                issuer: try Console.readSecret("Issuing state or country", naming: "issuer")
            )
        }
        if placeOfBirth {
            request.placeOfBirth = PlaceOfBirthMessage(
                city: try Console.readSecret("City of birth", naming: "city of birth"),
                state: try Console.readSecret("State or country of birth", naming: "state of birth")
            )
        }
        if children > 0 {
            request.children = try (1...children).map { number in
                ChildMessage(
                    fullName: try Console.readSecret("Child \(number): full name", naming: "child's name"),
                    dateOfBirth: try Console.readSecret("Child \(number): date of birth (YYYY-MM-DD)", naming: "child's date of birth")
                )
            }
        }
        return request
    }
}
