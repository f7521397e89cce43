//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityCore
import VerityTestSupport

/// What every store promises, proven on SQLite and PostgreSQL alike, with two instances on one
/// database wherever the promise is about writers racing: two servers behind one load balancer.
@Suite("Every store, with two instances on one database")
struct StoreConformanceTests {
    static let notifier = CallContext(caller: "mail-gateway", role: "notifier")

    /// Opens two instances of `engine`'s store, runs `body`, and closes them; a PostgreSQL run
    /// without a server is skipped, saying why.
    func withStores(
        _ engine: StoreEngine, hasher: CountingHasher, now: @escaping @Sendable () -> Date = { Date() },
        configuration: CredentialService.Configuration = .init(),
        _ body: (SharedStore, [CredentialService]) async throws -> Void
    ) async throws {
        if engine == .postgres, !PostgresTestCluster.isAvailable { try Test.cancel(Comment(rawValue: PostgresTestCluster.unavailableReason)) }
        let shared = try await SharedStore.open(engine, keyring: hasher.keyring)
        do {
            try await body(shared, try shared.services(hasher: hasher, configuration: configuration, now: now))
        } catch {
            await shared.close()
            throw error
        }
        await shared.close()
    }

    /// A client with a PIN, a password, an e-mail address and a cell phone.
    static func client(_ id: String, on service: CredentialService) async throws -> SubjectID {
        let subject = try SubjectID(id)
        _ = try await service.enroll(
            subject, kind: .client,
            contacts: Contacts(emails: ["\(id)@example.org"], phones: [Phone(number: "602-555-0100", type: .cell)]), context: .agent
        )
        _ = try await service.setSecurityDetails(subject, SecurityFactors(pin: "4829157", password: "Quiet Orchard 2291"), context: .agent)
        return subject
    }

    @Test(arguments: StoreEngine.allCases)
    func whatOneInstanceWritesTheOtherReadsBackExactly(engine: StoreEngine) async throws {
        try await withStores(engine, hasher: try CountingHasher()) { shared, services in
            let subject = try await Self.client("conf-1", on: services[0])
            _ = try await services[0].generateIVRPIN(for: subject, context: .agent)
            let representative = try SubjectID("conf-1/rep")
            _ = try await services[0].enroll(representative, kind: .representative, representing: subject, context: .agent)
            _ = try await services[1].verify(subject, SecurityFactors(pin: "1111112"), channel: .phone, context: .verifier)
            for id in [subject, representative] {
                let written = try #require(try await shared.instances[0].subject(id))
                #expect(try await shared.instances[1].subject(id) == written)
                #expect(try await shared.instances[1].subjectStatus(id) == SubjectStatus(written))
            }
            #expect(try await shared.instances[1].subject(try SubjectID("conf-nobody")) == nil)
            await #expect(throws: CredentialError.alreadyExists(subject)) {
                try await services[1].enroll(subject, kind: .client, context: .agent)
            }
            await #expect(throws: CredentialError.notFound(try SubjectID("conf-nobody"))) {
                try await services[1].enroll(try SubjectID("conf-nobody/rep"), kind: .representative, representing: try SubjectID("conf-nobody"), context: .agent)
            }
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aChangeThatThrowsWritesNothing(engine: StoreEngine) async throws {
        try await withStores(engine, hasher: try CountingHasher()) { shared, services in
            let subject = try await Self.client("conf-2", on: services[0])
            let before = try #require(try await shared.instances[0].subject(subject))
            let eventsBefore = try await services[0].auditEvents(limit: 1000).count
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await shared.instances[1].modify(subject) { subject -> SubjectModification<Void> in
                    subject.consecutiveFailures = 2
                    throw Refused()
                }
            }
            #expect(try await shared.instances[0].subject(subject) == before)
            #expect(try await services[0].auditEvents(limit: 1000).count == eventsBefore)
        }
    }

    /// The lock's guarantee across instances: of 200 wrong guesses split between two servers,
    /// exactly three are evaluated, and the person is blocked on both.
    @Test(arguments: StoreEngine.allCases)
    func twoHundredWrongGuessesOnTwoInstancesGetExactlyThreeEvaluations(engine: StoreEngine) async throws {
        let hasher = try CountingHasher()
        try await withStores(engine, hasher: hasher) { _, services in
            let subject = try await Self.client("conf-3", on: services[0])
            let evaluationsBefore = hasher.evaluations
            try await withThrowingTaskGroup(of: Void.self) { group in
                for guess in 0..<200 {
                    let service = services[guess % 2]
                    group.addTask {
                        _ = try? await service.verify(subject, SecurityFactors(pin: String(format: "%07d", 3_000_000 + guess)), channel: .phone, context: .verifier)
                    }
                }
                try await group.waitForAll()
            }
            #expect(hasher.evaluations - evaluationsBefore == 3)
            for service in services { #expect(try await service.status(of: subject).state == .blocked) }
            let right = try await services[1].verify(subject, SecurityFactors(pin: "4829157"), channel: .phone, context: .verifier)
            #expect(right.outcome == .blocked)
        }
    }

    /// Events appended by two instances at once form one chain, numbered without a gap.
    @Test(arguments: StoreEngine.allCases)
    func theAuditChainHasOneOrderAcrossInstances(engine: StoreEngine) async throws {
        try await withStores(engine, hasher: try CountingHasher()) { _, services in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    let service = services[index % 2]
                    group.addTask { _ = try await service.enroll(try SubjectID("conf-chain-\(index)"), kind: .client, context: .agent) }
                }
                try await group.waitForAll()
            }
            let events = try await services[1].auditEvents(limit: 1000)
            #expect(events.map(\.seq) == Array(1...Int64(events.count)))
            #expect(events.filter { $0.action == .enroll }.count == 40)
            for service in services { #expect(try await service.verifyAuditChain().ok) }
        }
    }

    /// A code issued through one instance is used once, whichever instances its right answers reach.
    @Test(arguments: StoreEngine.allCases)
    func aCodeIssuedOnOneInstanceIsVerifiedOnceAcrossBoth(engine: StoreEngine) async throws {
        var configuration = CredentialService.Configuration()
        configuration.codeAttemptLimit = 12
        try await withStores(engine, hasher: try CountingHasher(), configuration: configuration) { _, services in
            let subject = try await Self.client("conf-4", on: services[0])
            let issued = try await services[0].issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
            let delivery = try #require(try await services[1].leaseDeliveries(max: 10, leaseSeconds: 60, context: Self.notifier).first)
            let code = try #require(delivery.content.variables["code"])
            let outcomes = try await withThrowingTaskGroup(of: CodeVerificationResult.Outcome.self) { group in
                for index in 0..<12 {
                    let service = services[index % 2]
                    group.addTask {
                        try await service.verifyCode(
                            challenge: issued.challengeID, code: code, subject: issued.subjectID, purpose: issued.purpose, context: .verifier
                        ).outcome
                    }
                }
                return try await group.reduce(into: [CodeVerificationResult.Outcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .verified }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyUsed }.count == 11)
        }
    }

    /// Notifiers leasing through both instances at once never get one delivery twice, and an
    /// acknowledgement needs the lease's own token.
    @Test(arguments: StoreEngine.allCases)
    func leasesThroughTwoInstancesNeverHandOutADeliveryTwice(engine: StoreEngine) async throws {
        try await withStores(engine, hasher: try CountingHasher()) { _, services in
            for index in 0..<24 {
                let subject = try await Self.client("conf-lease-\(index)", on: services[index % 2])
                _ = try await services[0].issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
            }
            let leased = try await withThrowingTaskGroup(of: [LeasedDelivery].self) { group in
                for index in 0..<12 {
                    let service = services[index % 2]
                    group.addTask { try await service.leaseDeliveries(max: 3, leaseSeconds: 60, context: Self.notifier) }
                }
                return try await group.reduce(into: [LeasedDelivery]()) { $0 += $1 }
            }
            #expect(leased.count == 24)
            #expect(Set(leased.map(\.id)).count == 24)
            let first = try #require(leased.first)
            await #expect(throws: CredentialError.failedPrecondition(reason: "LEASE_LOST", message: "the lease ran out and the delivery was leased again; do not send it twice")) {
                try await services[1].acknowledgeDelivery(first.id, leaseToken: String(repeating: "0", count: 32), outcome: .sent, context: Self.notifier)
            }
            try await services[1].acknowledgeDelivery(first.id, leaseToken: first.leaseToken, outcome: .sent, context: Self.notifier)
            await #expect(throws: CredentialError.missing(field: "deliveryId", message: "no pending delivery with this id")) {
                try await services[0].acknowledgeDelivery(first.id, leaseToken: first.leaseToken, outcome: .sent, context: Self.notifier)
            }
        }
    }

    /// A timed step that fell due is taken once, however many instances' schedulers race for it.
    @Test(arguments: StoreEngine.allCases)
    func aTimedStepIsTakenOnceAcrossInstances(engine: StoreEngine) async throws {
        let clock = TestClock()
        try await withStores(engine, hasher: try CountingHasher(), now: clock.closure) { _, services in
            let subject = try await Self.client("conf-5", on: services[0])
            let address = PostalAddress(lines: ["Ms A. Person", "1 High Street", "Leeds"], postalCode: "LS1 4AB", country: "GB")
            try await services[0].updateContacts(subject, to: Contacts(postalAddresses: [address]), context: .agent)
            let raised = try await services[0].raiseChangeRequest(for: subject, source: .letter, reason: .clientRequest, reportedBy: "A. Person", context: .agent)
            clock.advance(by: 8 * 24 * 3600)
            async let first = services[0].takeDueSteps()
            async let second = services[1].takeDueSteps()
            #expect(try await first + second == 1)
            let reminded = try #require(try await services[1].changeRequest(raised.id))
            #expect(reminded.reminderSentAt == clock.now)
            let letters = try await services[1].leaseDeliveries(max: 10, leaseSeconds: 60, channels: [.letter], context: Self.notifier)
            #expect(letters.map(\.content.template) == ["CMSL9801"])
            #expect(try await services[0].workflowBacklog() == WorkflowBacklog(overdueChangeRequests: 0, pendingLinkRequests: 0))
        }
    }

    /// Listings page by creation time and id, and filter, the same way on every engine.
    @Test(arguments: StoreEngine.allCases)
    func changeRequestsPageAndFilterAlike(engine: StoreEngine) async throws {
        let clock = TestClock()
        try await withStores(engine, hasher: try CountingHasher(), now: clock.closure) { _, services in
            var raised: [String] = []
            for index in 0..<5 {
                let subject = try await Self.client("conf-page-\(index)", on: services[index % 2])
                raised.append(try await services[index % 2].raiseChangeRequest(
                    for: subject, source: .selfService, reason: .clientRequest, reportedBy: "the person", context: .agent
                ).id)
            }
            var query = ChangeRequestQuery()
            query.limit = 2
            var seen: [String] = []
            while true {
                let page = try await services[1].changeRequests(matching: query, overdueOnly: false)
                seen += page.requests.map(\.id)
                guard let next = page.next else { break }
                query.after = next
            }
            #expect(seen == raised.sorted(), "one creation time: pages go by id, bytewise")
            var bySubject = ChangeRequestQuery()
            bySubject.subjectID = try SubjectID("conf-page-3")
            #expect(try await services[0].changeRequests(matching: bySubject, overdueOnly: false).requests.map(\.id) == [raised[3]])
        }
    }

    /// The inventory of keys counts the same things on every engine.
    @Test(arguments: StoreEngine.allCases)
    func theKeyInventoryCountsWhatIsStored(engine: StoreEngine) async throws {
        let hasher = try CountingHasher()
        try await withStores(engine, hasher: hasher) { _, services in
            let subject = try await Self.client("conf-6", on: services[0])
            _ = try await services[1].issueCode(to: subject, channel: .email, purpose: .passwordReset, context: .verifier)
            let inventory = try await services[1].keyInventory()
            #expect(inventory.keysMissing(from: hasher.keyring).isEmpty)
            let lines = inventory.lines.joined(separator: "\n")
            #expect(lines.contains("one-time code") && lines.contains("outbox delivery") && lines.contains("audit event"))
        }
    }
}
