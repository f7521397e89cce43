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

/// A guided walk through the whole story against a running development verityd.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk through Verity's story against a development verityd: enrol, three wrong PINs, unblock, an IVR PIN, a one-time code.",
        discussion: """
            Run `swift run verityd` in one terminal and `swift run verityctl demo` next to it. The
            one-time code is printed by verityd when it runs with --print-notifications; type it when asked.
            """
    )

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        try await Console.run(options) { client in
            let subject = "demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let pin = "4829157"
            step("Enrol \(subject), a client with an e-mail address on file")
            let enrolled = try await client.enroll(subjectId: subject, contacts: ContactsMessage(emails: ["demo@example.org"]), actor: "demo")
            show("state", enrolled.state)

            step("Set the security PIN (the demo uses \(pin); real PINs come from the person)")
            show("state", try await client.setSecurityDetails(subjectId: subject, pin: pin, actor: "demo").state)

            step("The caller gets the PIN wrong three times")
            for _ in 0..<3 {
                let check = try await client.verify(subjectId: subject, pin: "1111112", actor: "demo")
                show(check.result, "attempts left: \(check.attemptsRemaining)")
            }
            step("Now even the right PIN answers BLOCKED: the secret is not even looked at")
            show(try await client.verify(subjectId: subject, pin: pin, actor: "demo").result, "")

            step("An admin unblocks, with a reason for the audit trail")
            show("state", try await client.unblock(subjectId: subject, reason: "demo: identity confirmed", actor: "demo").state)

            step("The phone system gets a generated IVR PIN, shown this once")
            let ivr = try await client.generatePin(subjectId: subject, actor: "demo")
            show("IVR PIN", ivr.pin)
            show(try await client.verifyPin(subjectId: subject, pin: ivr.pin, actor: "demo").result, "the IVR checked it")

            step("A one-time code goes to the e-mail address on file, through the notification outbox")
            let issued = try await client.issueCode(subjectId: subject, channel: "EMAIL", purpose: "PASSWORD_RESET", actor: "demo")
            show("sent to", issued.maskedDestination)
            print("    verityd's console shows the message (verityd --print-notifications).")
            let code = try Console.readSecret("    Type the code shown there")
            show(try await client.verifyCode(challengeId: issued.challengeId, code: code, subjectId: subject, purpose: "PASSWORD_RESET", actor: "demo").result, "")

            step("Every act is in the audit trail, hash-chained")
            let chain = try await client.verifyAuditChain()
            show("chain", chain.ok ? "intact, \(chain.checked) events" : "BROKEN at \(chain.firstBadSeq ?? 0)")
            print("\nSee it all: verityctl audit list --subject \(subject)")
            return 0
        }
    }

    private func step(_ text: String) {
        print("\n▸ \(text)")
    }

    private func show(_ label: String, _ value: String) {
        print("    \(label)\(value.isEmpty ? "" : "  \(value)")")
    }
}
