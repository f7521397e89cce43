//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import VerityClient
import VerityProtocol
import VerityServer
import VerityTLS
import VerityTestSupport

@Suite("VerityClient against a real server")
struct VerityClientTests {
    @Test func everyMethod() async throws {
        let server = try await TestServer.start()
        let agent = server.client(role: "agent")
        let admin = server.client(role: "admin")
        let mailer = server.client(role: "notifier")
        #expect(try await agent.healthCheck() == "SERVING")
        let enrolled = try await agent.enroll(subjectId: "c-1", contacts: ContactsMessage(emails: ["pat@example.org"]), actor: "agent:1")
        #expect(enrolled.state == "NOT_SET_UP")
        _ = try await agent.enroll(subjectId: "c-1/rep", kind: "REPRESENTATIVE", representsSubjectId: "c-1")
        try await agent.updateContacts(subjectId: "c-1", contacts: ContactsMessage(emails: ["pat@example.org"], phones: [PhoneMessage(number: "602-555-0100", type: "CELL")]))
        #expect(try await agent.setSecurityDetails(subjectId: "c-1", pin: "4829157", password: "Blue kettle 1987").state == "ACTIVE")
        #expect(try await agent.verify(subjectId: "c-1", password: "BLUE KETTLE 1987").result == "VERIFIED")
        #expect(try await agent.change(ChangeRequest(subjectId: "c-1", currentPin: "4829157", currentPassword: "Blue kettle 1987", newPin: "5937261")).result == "VERIFIED")
        let pin = try await agent.generatePin(subjectId: "c-1")
        #expect(try await agent.verifyPin(subjectId: "c-1", pin: pin.pin).result == "VERIFIED")
        let issued = try await agent.issueCode(subjectId: "c-1", channel: "SMS", purpose: "STEP_UP")
        let delivery = try #require(try await mailer.lease(max: 5, leaseSeconds: 30).first)
        #expect(try await agent.verifyCode(challengeId: issued.challengeId, code: try #require(delivery.variables["code"]), subjectId: "c-1", purpose: "STEP_UP").result == "VERIFIED")
        try await mailer.ack(deliveryId: delivery.deliveryId, leaseToken: delivery.leaseToken)
        #expect(try await agent.getStatus(subjectId: "c-1").ivrPinUpdatedAt == pin.updatedAt)
        for _ in 0..<3 { _ = try await agent.verify(subjectId: "c-1", pin: "1111112") }
        #expect(try await admin.unblock(subjectId: "c-1", reason: "confirmed").state == "ACTIVE")
        #expect(try await agent.applyDefaults(subjectId: "c-1").state == "DEFAULTS_APPLIED")
        let page = try await admin.listAudit(subjectId: "c-1", limit: 3)
        #expect(page.events.count == 3 && page.nextAfterSeq == page.events.last?.seq)
        #expect(page.events.first?.actor == "agent:1")
        #expect(try await admin.verifyAuditChain().ok)
        for client in [agent, admin, mailer] { await client.close() }
        try await server.stop()
    }

    @Test func everyStatusArrivesAsATypedError() async throws {
        let server = try await TestServer.start()
        let agent = server.client(role: "agent")
        _ = try await agent.enroll(subjectId: "e-1")
        func status(_ work: () async throws -> Void) async -> (StatusCode, [String: JSONValue])? {
            do {
                try await work()
                return nil
            } catch let error as RPCError {
                return (error.code, error.details)
            } catch {
                return nil
            }
        }
        #expect(await status { _ = try await agent.enroll(subjectId: "e-1") }?.0 == .alreadyExists)
        let invalid = await status { _ = try await agent.setSecurityDetails(subjectId: "e-1", pin: "0000000") }
        #expect(invalid?.0 == .invalidArgument && invalid?.1 == ["field": "pin", "reason": "ALL_ZEROES"])
        #expect(await status { _ = try await agent.getStatus(subjectId: "ghost") }?.0 == .notFound)
        #expect(await status { _ = try await agent.unblock(subjectId: "e-1", reason: "x") }?.0 == .permissionDenied)
        #expect(await status { _ = try await agent.issueCode(subjectId: "e-1", channel: "EMAIL", purpose: "STEP_UP") }?.0 == .failedPrecondition)
        let unknown: (StatusCode, [String: JSONValue])? = await status {
            let _: EmptyMessage = try await agent.call(.healthCheck, EmptyMessage(), metadata: ["bad key!": "x"])
        }
        #expect(unknown?.0 == .invalidArgument)
        await agent.close()
        try await server.stop()
    }

    @Test func deadlinesAreSentAndKept() async throws {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) }) { $0.hashingConcurrency = 1 }
        let agent = server.client(role: "agent")
        for id in ["d-1", "d-2"] { _ = try await agent.enroll(subjectId: id) }
        // A slow call holds the pool of one at the gate: a call with a 1 ms deadline waits in the
        // queue, its deadline passes there, and it is never served.
        let slow = Task { try await agent.setSecurityDetails(subjectId: "d-1", pin: "4829157").state }
        try await waitUntil { gate.value.waitingJobs == 1 }
        do {
            _ = try await agent.setSecurityDetails(subjectId: "d-2", pin: "4829157", timeout: .milliseconds(1))
            Issue.record("a call whose deadline passed in the queue was served")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
        }
        gate.value.openGate()
        #expect(try await slow.value == "ACTIVE")
        #expect(try await agent.getStatus(subjectId: "d-2").hasPin == false)
        await agent.close()
        try await server.stop()
    }

    @Test func manyConcurrentCallsShareOneConnection() async throws {
        let server = try await TestServer.start()
        let agent = server.client(role: "agent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let id = "many-\(index)"
                    let enrolled = try await agent.enroll(subjectId: id)
                    #expect(enrolled.subjectId == id)
                    #expect(try await agent.getStatus(subjectId: id).subjectId == id)
                }
            }
            try await group.waitForAll()
        }
        #expect(server.logs.text.components(separatedBy: "connection verified").count - 1 == 1)
        await agent.close()
        try await server.stop()
    }

    @Test func theClientReconnectsAfterTheServerRestarts() async throws {
        let directory = try TemporaryDirectory("verity-reconnect")
        let setup = try DevelopmentSetup.ensure(in: directory.url.appendingPathComponent("data"))
        var configuration = setup.configuration()
        configuration.port = try freeLoopbackPort()
        configuration.keyDerivation = .scrypt(logN: 4, r: 1, p: 1)
        configuration.derivationBounds = .lowCostForTests
        let first = try await RunningServer.start(configuration)
        let agent = VerityClient(configuration: .init(
            port: configuration.port, certificatePath: setup.pki.certificatePath(role: "agent"),
            privateKeyPath: setup.pki.keyPath(role: "agent"), trustRootsPath: setup.pki.caCertificatePath
        ))
        _ = try await agent.enroll(subjectId: "r-1")
        try await first.stop()
        do {
            _ = try await agent.getStatus(subjectId: "r-1")
            Issue.record("a call succeeded with the server down")
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
        }
        let second = try await RunningServer.start(configuration)
        #expect(try await agent.getStatus(subjectId: "r-1").state == "NOT_SET_UP")
        await agent.close()
        try await second.stop()
    }
}


/// A server on a fixed configuration, for tests that stop and start it on the same port.
struct RunningServer {
    let group: ServiceGroup
    let task: Task<Void, Error>

    /// Starts a server on the configuration's port, trying again for a while when the port is
    /// taken: the port was free when the test chose it, but while no server listens, another
    /// test's connection may get it as its own (ephemeral) port.
    static func start(_ configuration: ServerConfiguration) async throws -> RunningServer {
        let logger = Logger(label: "verityd-test")
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let server = try VerityServer(configuration: configuration, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
            let ended = ServerEnd()
            let task = Task {
                do {
                    try await group.run()
                } catch {
                    ended.record(error)
                    throw error
                }
            }
            try await waitUntil(timeout: .seconds(60)) {
                if ended.error != nil { return true }
                return (try? await server.waitUntilListening(timeout: .milliseconds(1))) != nil
            }
            guard let error = ended.error else { return RunningServer(group: group, task: task) }
            guard (error as? IOError)?.errnoCode == EADDRINUSE, ContinuousClock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// How a server's run ended, if it did.
    final class ServerEnd: Sendable {
        private let ended = Mutex<(any Error)?>(nil)
        func record(_ error: any Error) { ended.withLock { $0 = error } }
        var error: (any Error)? { ended.withLock { $0 } }
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
