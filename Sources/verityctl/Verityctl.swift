//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser

/// `verityctl`: the admin CLI of Verity.
@main
struct Verityctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verityctl",
        abstract: "Administer a Verity service: status, unblock, enrolment, IVR PINs, codes, the audit trail.",
        discussion: """
            Run next to a development verityd (`swift run verityd`) and verityctl finds its \
            certificates in ./.verity/pki by itself, as the admin role unless --role says \
            otherwise. Elsewhere, name --server, --cert, --key and --ca (or VERITY_SERVER, \
            VERITY_CERT, VERITY_KEY, VERITY_CA).

            Secrets (PINs, passwords, codes) are never taken as arguments, which would leave them \
            in shell history and process lists: verityctl asks for them without echo, or reads \
            them from standard input, one per line.

            Exit codes:
              0   success
              1   denied, or a check that failed (MISMATCH, BLOCKED, NOT_SET_UP, not found, ...)
              64  usage error: a bad flag or argument, or a request the server calls invalid
              69  service unavailable: verityd cannot be reached, is shutting down, or is overloaded
              70  unexpected error
            """,
        subcommands: [
            StatusCommand.self, EnrollCommand.self, ContactsCommand.self, SetDetailsCommand.self, ApplyDefaultsCommand.self,
            VerifyCommand.self, UnblockCommand.self, IVRCommand.self, MFACommand.self, FactsCommand.self, RecoveryCommand.self,
            RequestsCommand.self, PortalCommand.self, LinksCommand.self, AuditCommand.self, HealthCommand.self, DemoCommand.self, DevCommand.self,
        ]
    )
}
