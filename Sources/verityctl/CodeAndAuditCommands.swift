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

struct IVRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ivr", abstract: "The phone system's PIN.", subcommands: [GeneratePIN.self])

    struct GeneratePIN: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-pin",
            abstract: "Generate (or replace) a subject's IVR PIN and show it this once, for the caseworker to read out."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String

        func run() async throws {
            try await Console.run(options) { client in
                let generated = try await client.generatePin(subjectId: subject, actor: options.actorName)
                if options.json { try Console.printJSON(generated); return 0 }
                Console.printTable([("IVR PIN", generated.pin), ("updated at", generated.updatedAt)])
                print("Read it to the caller now: it is not shown again.")
                return 0
            }
        }
    }
}

struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mfa", abstract: "One-time codes.", subcommands: [Issue.self, Verify.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "issue", abstract: "Send a one-time code to a contact on file.")

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The subject id.") var subject: String
        @Option(help: "EMAIL or SMS.") var channel: CodeChannelName = .email
        @Option(help: "PORTAL_REGISTRATION, PASSWORD_RESET, ACCOUNT_LINK or STEP_UP.") var purpose: CodePurposeName = .stepUp
        @Option(help: "One contact on file, by its exact value; the first eligible one by default.") var destination: String?

        func run() async throws {
            try await Console.run(options) { client in
                let issued = try await client.issueCode(subjectId: subject, channel: channel, purpose: purpose, destination: destination, actor: options.actorName)
                if options.json { try Console.printJSON(issued); return 0 }
                Console.printTable([("challenge", issued.challengeId), ("sent to", issued.maskedDestination), ("expires at", issued.expiresAt)])
                print("Check it with: verityctl mfa verify \(issued.challengeId) --subject \(subject) --purpose \(purpose)")
                return 0
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a one-time code; it is asked for without echo, or read from standard input. Exits 0 when VERIFIED."
        )

        @OptionGroup var options: ConnectionOptions
        @Argument(help: "The challenge id that `mfa issue` printed.") var challenge: String
        @Option(help: "The subject the code was sent to.") var subject: String
        @Option(help: "What the code was issued for: PORTAL_REGISTRATION, PASSWORD_RESET, ACCOUNT_LINK or STEP_UP.") var purpose: CodePurposeName = .stepUp

        func run() async throws {
            let code = try Console.readSecret("Code", naming: "code")
            try await Console.run(options) { client in
                let result = try await client.verifyCode(challengeId: challenge, code: code, subjectId: subject, purpose: purpose, actor: options.actorName)
                if options.json { try Console.printJSON(result) } else {
                    Console.printTable([("result", result.result.rawValue), ("attempts left", String(result.attemptsRemaining))])
                }
                return result.result == .verified ? 0 : 1
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit trail.", subcommands: [List.self, Verify.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List audit events, oldest first.")

        @OptionGroup var options: ConnectionOptions
        @Option(help: "Only this subject's events.") var subject: String?
        @Option(help: "Events after this sequence number.") var after: Int64?
        @Option(help: "At most this many events (1 to 1000).") var limit = 100

        func run() async throws {
            try await Console.run(options) { client in
                let page = try await client.listAudit(subjectId: subject, afterSeq: after, limit: limit)
                if options.json { try Console.printJSON(page); return 0 }
                for event in page.events {
                    let who = [event.caller, event.actor].compactMap { $0 }.joined(separator: "/")
                    print("\(event.seq)\t\(event.time)\t\(who)\t\(event.subjectId ?? "-")\t\(event.action)\t\(event.outcome)\t\(event.facts.joined(separator: "; "))")
                }
                if let next = page.nextAfterSeq { print("More: verityctl audit list --after \(next)") }
                return 0
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the audit chain; exits 1 if it is broken, cut back or rewritten.",
            discussion: """
                Prints a checkpoint, SEQ:HASH, vouched for by the service. Keep it somewhere the \
                database's administrators cannot write; later, --expect-head SEQ:HASH proves that the \
                trail still holds that event with that hash: nothing up to it was cut off or rewritten.
                """
        )

        @OptionGroup var options: ConnectionOptions
        @Option(help: "A checkpoint printed earlier, SEQ:HASH, that the trail must still hold.") var expectHead: String?

        func run() async throws {
            let expected = try expectHead.map(Self.parseHead)
            try await Console.run(options) { client in
                let report = try await client.verifyAuditChain()
                var anchor: String?
                if let expected { anchor = try await Self.check(expected, report: report, client: client) }
                let intact = report.ok && anchor == nil
                if options.json { try Console.printJSON(report) } else {
                    Console.printTable([
                        ("chain", intact ? "intact" : "BROKEN"), ("events checked", String(report.checked)),
                        ("head", "\(report.headSeq) \(report.headHash)"), ("first bad event", report.firstBadSeq.map(String.init)),
                        ("checkpoint", report.checkpoint.map { "\($0.seq):\($0.hash)" }),
                    ])
                    if !report.ok { print("Event \(report.firstBadSeq ?? 0) no longer matches its hash: restore the database from a backup and investigate.") }
                    if let anchor { print(anchor) }
                }
                return intact ? 0 : 1
            }
        }

        static func parseHead(_ text: String) throws -> (seq: Int64, hash: String) {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let seq = Int64(parts[0]), seq >= 1, parts[1].count == 64 else {
                throw ValidationError("--expect-head takes SEQ:HASH as `audit verify` printed it, such as 42:9f86d0…")
            }
            return (seq, String(parts[1]).lowercased())
        }

        /// What is wrong with the trail at the expected head, or `nil` when it still holds it.
        static func check(_ expected: (seq: Int64, hash: String), report: VerifyAuditChainResponse, client: VerityClient) async throws -> String? {
            guard report.headSeq >= expected.seq else {
                return "The trail ends at event \(report.headSeq), before the checkpoint's event \(expected.seq): it was cut back."
            }
            let page = try await client.listAudit(afterSeq: expected.seq - 1, limit: 1)
            guard let event = page.events.first, event.seq == expected.seq, event.hash == expected.hash else {
                return "Event \(expected.seq) no longer has the checkpoint's hash: the trail up to it was rewritten."
            }
            return nil
        }
    }
}
