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
        abstract: "Walk through Verity's story against a development verityd: enrol, three wrong PINs, unblock, an IVR PIN, a one-time code, a forgotten password, a change request by letter, a portal account registered and linked.",
        discussion: """
            Run `swift run verityd` in one terminal and `swift run verityctl demo` next to it. \
            When verityd runs with --print-notifications, it prints the one-time code: type it when \
            asked, or pipe it in. Otherwise, or without a terminal, the demo takes the code from the \
            outbox itself, as the agency's mail system would (with the development notifier \
            certificate). With verityd --dev-clock, the change request's seven-day wait passes in a \
            moment, and the reminder goes out.
            """
    )

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        try await Console.run(options) { client in
            let subject = "demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let pin = "4829157"
            step("Enrol \(subject), a client with an e-mail address on file")
            let address = "\(subject)@example.org"
            let enrolled = try await client.enroll(subjectId: subject, contacts: ContactsMessage(emails: [address]), actor: "demo")
            show("state", enrolled.state.rawValue)

            step("Set the security PIN (the demo uses \(pin); real PINs come from the person)")
            show("state", try await client.setSecurityDetails(subjectId: subject, pin: pin, actor: "demo").state.rawValue)

            step("The caller gets the PIN wrong three times")
            for _ in 0..<3 {
                let check = try await client.verify(subjectId: subject, pin: "1111112", actor: "demo")
                show(check.result.rawValue, "attempts left: \(check.attemptsRemaining)")
            }
            step("Now even the right PIN answers BLOCKED: the secret is not even looked at")
            show(try await client.verify(subjectId: subject, pin: pin, actor: "demo").result.rawValue, "")

            step("An admin unblocks, with a reason for the audit trail")
            show("state", try await client.unblock(subjectId: subject, reason: "demo: identity confirmed", actor: "demo").state.rawValue)

            step("The phone system gets a generated IVR PIN, shown this once")
            let ivr = try await client.generatePin(subjectId: subject, actor: "demo")
            show("IVR PIN", ivr.pin)
            show(try await client.verifyPin(subjectId: subject, pin: ivr.pin, actor: "demo").result.rawValue, "the IVR checked it")

            step("A one-time code goes to the e-mail address on file, through the notification outbox")
            let issued = try await client.issueCode(subjectId: subject, channel: .email, purpose: .passwordReset, actor: "demo")
            show("sent to", issued.maskedDestination)
            let code = try await fromOutbox("code", sentTo: address)
            show(try await client.verifyCode(challengeId: issued.challengeId, code: code, subjectId: subject, purpose: .passwordReset, actor: "demo").result.rawValue, "")

            try await forgottenPassword(of: subject, client: client)
            try await changeRequestByLetter(client: client)
            try await portalAccount(client: client)

            step("Every act is in the audit trail, hash-chained")
            let chain = try await client.verifyAuditChain()
            show("chain", chain.ok ? "intact, \(chain.checked) events" : "BROKEN at \(chain.firstBadSeq ?? 0)")
            print("\nSee it all: verityctl audit list --subject \(subject)")
            return 0
        }
    }

    /// The second story (procedure 000): the person forgot their password; the facts on file
    /// confirm them instead, and the caseworker removes the password at their request.
    private func forgottenPassword(of subject: String, client: VerityClient) async throws {
        step("The person forgot their password: facts on file confirm them instead")
        let birthplace = PlaceOfBirthMessage(city: "St. Louis", state: "Missouri")
        let child = ChildMessage(fullName: "Mary Ann Quillfeather", dateOfBirth: "2015-03-05")
        _ = try await client.setSecurityDetails(subjectId: subject, pin: "4829157", password: "Quiet Orchard 2291", actor: "demo")
        let onFile = try await client.setFacts(FactsRequest(subjectId: subject, placeOfBirth: birthplace, children: [child]), actor: "demo")
        show("facts on file", onFile.map(\.rawValue).joined(separator: ", ") + " (hashed like a PIN, never shown again)")
        let wrong = try await client.checkFacts(
            FactsRequest(subjectId: subject, placeOfBirth: birthplace, children: [ChildMessage(fullName: child.fullName, dateOfBirth: "2015-05-03")]),
            actor: "demo"
        )
        show(wrong.result.rawValue, "a wrong date of birth counts like a wrong PIN; attempts left: \(wrong.attemptsRemaining)")
        let said = FactsRequest(
            subjectId: subject, placeOfBirth: PlaceOfBirthMessage(city: "st louis", state: "MISSOURI"),
            children: [ChildMessage(fullName: "Quillfeather, Ann Mary", dateOfBirth: "03/05/2015")]
        )
        let right = try await client.checkFacts(said, actor: "demo")
        show(right.result.rawValue, "the same facts, said another way: \(right.matched.map(\.rawValue).joined(separator: ", "))")
        let state = try await client.removePassword(subjectId: subject, reason: "demo: the client asked, after the fallback check", actor: "demo")
        show("password removed", "state \(state.state.rawValue); the PIN stays")
    }

    /// The third story (procedure 002): a blocked person changes their details by a form sent by
    /// letter; the development clock shows the seven-day wait and the reminder.
    private func changeRequestByLetter(client: VerityClient) async throws {
        let subject = "demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        step("\(subject) is blocked after three wrong PINs; a change request sends them a form by letter")
        let contacts = ContactsMessage(
            phones: [PhoneMessage(number: "07700 900123", type: .cell)],
            postalAddresses: [PostalAddressMessage(lines: ["Ms A. Person", "1 High Street", "Leeds"], postalCode: "LS1 4AB", country: "GB")]
        )
        _ = try await client.enroll(subjectId: subject, contacts: contacts, actor: "demo")
        _ = try await client.setSecurityDetails(subjectId: subject, pin: "4829157", actor: "demo")
        for _ in 0..<3 { _ = try await client.verify(subjectId: subject, pin: "1111112", actor: "demo") }
        let raised = try await client.raiseChangeRequest(
            subjectId: subject, source: .phone, reason: .blockedAfterFailedChecks, reportedBy: "Ms A. Person (PWC)", actor: "demo"
        )
        show(raised.status.rawValue, "letter CMSL9800 is in the outbox; the form is due back by \(raised.dueAt ?? "?")")

        step("Seven days pass without an answer (the development clock moves; production clocks never do)")
        do {
            let moved = try await client.advanceClock(seconds: 7 * 24 * 3600, actor: "demo")
            let reminded = try await client.changeRequest(changeRequestId: raised.changeRequestId, actor: "demo")
            show("now \(moved.now)", "the scheduler sent reminder CMSL9801 and waits 7 more days, until \(reminded.dueAt ?? "?")")
        } catch let error as RPCError where error.code == .unimplemented {
            show("skipped", "start verityd with --dev-clock to watch the wait and the reminder")
        }

        step("The form comes back; the caseworker accepts: new PIN, unblocked, confirmed by text, in one act")
        try await receiveForm(raised.changeRequestId, of: subject, client: client)
        let accepted = try await client.acceptChangeRequest(
            changeRequestId: raised.changeRequestId, subjectId: subject, newPin: "5930271", confirmBySms: true, actor: "demo"
        )
        show(accepted.changeRequest.status.rawValue, "subject \(accepted.state.rawValue), confirmed by \(accepted.changeRequest.confirmation?.rawValue ?? "?")")
        show(try await client.verify(subjectId: subject, pin: "5930271", actor: "demo").result.rawValue, "the new PIN works")
    }

    /// Records the form's return. A form comes back only after a letter carrying it went out: the
    /// demo posts what verityd has not printed, as the agency's letter system would.
    private func receiveForm(_ request: String, of subject: String, client: VerityClient) async throws {
        var notifierOptions = options
        notifierOptions.role = "notifier"
        let letters = try notifierOptions.client()
        defer { Task { await letters.close() } }
        for attempt in 1...50 {
            for letter in try await letters.lease(max: 100, leaseSeconds: 5, channels: [.letter]) {
                try await letters.ack(deliveryId: letter.deliveryId, leaseToken: letter.leaseToken)
            }
            do {
                _ = try await client.receiveForm(changeRequestId: request, subjectId: subject, actor: "demo")
                return
            } catch let error as RPCError where error.details["reason"] == "FORM_NOT_SENT" && attempt < 50 {
                // verityd's console is printing the letter; its acknowledgement follows at once.
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The fourth story (procedures 001 and 003): a person registers on the portal with the
    /// e-mailed token and links the account at once on a full match with a verified code; another
    /// types a wrong ZIP code, and a caseworker links the queued request by hand.
    private func portalAccount(client: VerityClient) async throws {
        let subject = "demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let address = "\(subject)@example.org"
        step("\(subject) is invited to the self-service portal: a registration e-mail with a single-use token")
        _ = try await client.enroll(subjectId: subject, contacts: ContactsMessage(emails: [address]), actor: "demo")
        let cases = [
            LinkCaseMessage(county: "Los Angeles", caseNumber: "LA-100200", primaryApplicant: true),
            LinkCaseMessage(county: "Orange", caseNumber: "OC-300400", primaryApplicant: true),
        ]
        _ = try await client.setLinkFacts(
            SetLinkFactsRequest(subjectId: subject, registrantName: "Pat Demo", dateOfBirth: "1985-04-12", zipCode: "90210", cases: cases), actor: "demo"
        )
        show("sent to", try await client.startRegistration(subjectId: subject, actor: "demo").maskedDestination)
        let token = try await fromOutbox("token", sentTo: address)
        let registered = try await client.completeRegistration(token: token, password: "Copper Meadow 5521")
        show("registered", "state \(registered.state.rawValue); the token works once, and is kept only as a MAC")

        step("The person forgets the portal password: a code to the e-mail on file grants one change, within 10 minutes")
        let reset = try await client.issueCode(subjectId: subject, channel: .email, purpose: .passwordReset, actor: "demo")
        _ = try await client.verifyCode(challengeId: reset.challengeId, code: try await fromOutbox("code", sentTo: address), subjectId: subject, purpose: .passwordReset)
        let changed = try await client.resetPassword(subjectId: subject, challengeId: reset.challengeId, newPassword: "Amber Lantern 3318")
        show("password set", "state \(changed.state.rawValue); the same code grants nothing more")

        step("On the portal, the person proves the e-mail with a code and links the account: every fact matches")
        let issued = try await client.issueCode(subjectId: subject, channel: .email, purpose: .accountLink, actor: "demo")
        let code = try await fromOutbox("code", sentTo: address)
        _ = try await client.verifyCode(challengeId: issued.challengeId, code: code, subjectId: subject, purpose: .accountLink)
        let account = UUID().uuidString.lowercased()
        let claim = SubmitLinkRequest(
            subjectId: subject, portalAccountId: account, dateOfBirth: "04/12/1985", zipCode: "90210", county: "Los Angeles", caseNumber: "LA100200",
            challengeId: issued.challengeId
        )
        let linked = try await client.submitLink(claim)
        show(linked.outcome.rawValue, linked.link.map { "\($0.method.rawValue), portal account \($0.portalAccountId)" } ?? "")

        let other = "demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        step("\(other) types a wrong ZIP code on the portal: the request waits in both counties' queues")
        _ = try await client.enroll(subjectId: other, contacts: ContactsMessage(emails: ["\(other)@example.org"]), actor: "demo")
        _ = try await client.setLinkFacts(
            SetLinkFactsRequest(subjectId: other, registrantName: "Sam Demo", dateOfBirth: "1990-01-31", zipCode: "90210", cases: cases), actor: "demo"
        )
        let otherCode = try await client.issueCode(subjectId: other, channel: .email, purpose: .accountLink, actor: "demo")
        _ = try await client.verifyCode(
            challengeId: otherCode.challengeId, code: try await fromOutbox("code", sentTo: "\(other)@example.org"), subjectId: other, purpose: .accountLink
        )
        let mismatch = SubmitLinkRequest(
            subjectId: other, portalAccountId: UUID().uuidString.lowercased(), dateOfBirth: "1990-01-31", zipCode: "90211", county: "Orange",
            caseNumber: "OC300400", challengeId: otherCode.challengeId
        )
        show(try await client.submitLink(mismatch).outcome.rawValue, "the portal is not told which fact was wrong; the caseworker is")
        let pending = try await client.searchLinkRequests(SearchLinkRequestsRequest(registrantName: "sam demo"), actor: "demo")
        show("queued in", pending.linkRequests.map { "\($0.county) (\($0.holds.map(\.rawValue).joined(separator: ", ")))" }.joined(separator: ", "))
        guard let request = pending.linkRequests.first(where: { $0.subjectId == other && $0.county == "ORANGE" }) else { return }
        step("Orange County confirms who the person is and links it by hand: Los Angeles's request is processed with it")
        let processed = try await client.linkAccount(linkRequestId: request.linkRequestId, actor: "demo")
        show("processed", processed.linkRequests.map { "\($0.county) \($0.status.rawValue)" }.joined(separator: ", "))
    }

    /// A value a message carries (a one-time code, a registration token): typed at a terminal, or
    /// piped in, when verityd prints it; otherwise taken from the outbox, as the agency's mail
    /// system would.
    private func fromOutbox(_ variable: String, sentTo address: String) async throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            print("    verityd's console shows the message when it runs with --print-notifications: type the \(variable).")
            print("    Otherwise press return, and the demo reads it from the outbox as a mail system would.")
            if let typed = readLine()?.trimmingCharacters(in: .whitespaces), !typed.isEmpty { return typed }
        } else {
            // The prompt goes to standard error, so that it shows when the value is piped in.
            FileHandle.standardError.write(Data("    Type the \(variable) shown there (or close standard input, and the outbox is read): ".utf8))
            if let piped = readLine()?.trimmingCharacters(in: .whitespaces), !piped.isEmpty { return piped }
        }
        var notifierOptions = options
        notifierOptions.role = "notifier"
        let notifier = try notifierOptions.client()
        defer { Task { await notifier.close() } }
        for delivery in try await notifier.lease(max: 100, leaseSeconds: 5) where delivery.destination == address {
            try await notifier.ack(deliveryId: delivery.deliveryId, leaseToken: delivery.leaseToken)
            if let value = delivery.variables[variable] {
                show("from the outbox", "the mail system would send it now")
                return value
            }
        }
        throw ValidationError("""
            The \(variable) is no longer in the outbox: verityd printed it (it runs with --print-notifications). \
            Run the demo in a terminal and type the \(variable), or pipe it to standard input.
            """)
    }

    private func step(_ text: String) {
        print("\n▸ \(text)")
    }

    private func show(_ label: String, _ value: String) {
        print("    \(label)\(value.isEmpty ? "" : "  \(value)")")
    }
}
