//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Dispatch
import Foundation
import Histogram
import NIOCore
import Synchronization
import VerityClient
import VerityCrypto
import VerityProtocol
import VerityTLS

/// The scenarios, each bounded in time, all on loopback.
struct Bench: @unchecked Sendable {
    let server: ServerProcess
    let seconds: Int
    /// The subjects every Verify checks, one per load connection in turn: a person may have at
    /// most three checks in flight (the lock reserves one attempt each), and a load of many
    /// connections on one person would measure refusals, not checks.
    static let subjects = (0..<16).map { "bench-\($0)" }
    static let pin = "4829157"

    var pki: DevelopmentPKI { DevelopmentPKI(existingIn: server.dataDirectory.appendingPathComponent("pki")) }

    enum Call {
        case verify, health, getStatus
        /// Verify with a deadline, in milliseconds.
        case verifyWithin(Int)

        /// The request with this id, for the subject of load connection `lane`.
        func body(id: Int64, lane: Int = 0) -> ByteBuffer {
            let subject = Bench.subjects[lane % Bench.subjects.count]
            return switch self {
            case .verify:
                ByteBuffer(string: #"{"id":\#(id),"method":"verity.v1.Credentials/Verify","message":{"subjectId":"\#(subject)","pin":"\#(Bench.pin)","channel":"PHONE"}}"#)
            case let .verifyWithin(milliseconds):
                ByteBuffer(string: #"{"id":\#(id),"method":"verity.v1.Credentials/Verify","timeoutMs":\#(milliseconds),"message":{"subjectId":"\#(subject)","pin":"\#(Bench.pin)","channel":"PHONE"}}"#)
            case .health:
                ByteBuffer(string: #"{"id":\#(id),"method":"verity.v1.Health/Check","message":{}}"#)
            case .getStatus:
                ByteBuffer(string: #"{"id":\#(id),"method":"verity.v1.Subjects/GetStatus","message":{"subjectId":"\#(subject)"}}"#)
            }
        }
    }

    func tls(role: String = "agent") throws -> TLSContext {
        try TLSContext(.client(
            serverName: "localhost", certificateChainPath: pki.certificatePath(role: role), privateKeyPath: pki.keyPath(role: role),
            serverCAPath: pki.caCertificatePath
        ))
    }

    /// Enrols the subject whose PIN every Verify checks (the right PIN, so nothing locks).
    func prepare() async throws {
        let agent = VerityClient(configuration: .init(
            port: server.port, certificatePath: pki.certificatePath(role: "agent"), privateKeyPath: pki.keyPath(role: "agent"),
            trustRootsPath: pki.caCertificatePath
        ))
        for subject in Self.subjects {
            do {
                _ = try await agent.enroll(subjectId: subject)
            } catch let error as RPCError where error.code == .alreadyExists {
                // A database shared with an earlier run (the two-instance phase) keeps its subjects.
            }
            _ = try await agent.setSecurityDetails(subjectId: subject, pin: Self.pin, actor: "verity-bench")
        }
        await agent.close()
    }

    // MARK: Baselines

    /// The time of one hash with verityd's parameters on one thread, averaged.
    func singleHashSeconds() -> Double {
        let started = ContinuousClock.now
        let rounds = 10
        for _ in 0..<rounds { derive() }
        return (ContinuousClock.now - started).seconds / Double(rounds)
    }

    /// Hashes per second with verityd's parameters on every core at once.
    func rawKDFThroughput() -> Double {
        let count = Atomic<Int>(0)
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: System.coreCount) { _ in
            while ContinuousClock.now < deadline {
                derive()
                count.add(1, ordering: .relaxed)
            }
        }
        return Double(count.load(ordering: .relaxed)) / (ContinuousClock.now - started).seconds
    }

    private func derive() {
        let keyed = HMACSHA256.authenticate(Array(Self.pin.utf8), key: [UInt8](repeating: 7, count: 32))
        _ = try? KeyDerivation.recommended.deriveKey(password: keyed, salt: [UInt8](repeating: 1, count: 16), length: 32)
    }

    // MARK: Load

    /// Requests per second with `connections x depth` always in flight, the connections spread
    /// over `ports` (this server's alone by default).
    func closedLoop(_ call: Call, connections: Int, depth: Int, ports: [Int]? = nil) async throws -> (Double, Histogram<UInt64>) {
        try await measure(ports: ports ?? [server.port], connections: connections, depth: depth) { id, lane in call.body(id: id, lane: lane) }
    }

    /// `callers` connections with one request each always in flight, refusals included (retried
    /// after their `retryAfterMs`), for `seconds` after a warm-up: the served and the refused.
    func overloadLoop(_ call: Call, callers: Int, seconds: Int) async throws -> (served: Double, refused: Int, LoadRecorder) {
        let recorder = LoadRecorder()
        let tls = try self.tls()
        var connections: [LoadConnection] = []
        for lane in 0..<callers {
            connections.append(try await LoadConnection.open(port: server.port, tls: tls, request: { call.body(id: $0, lane: lane) }, depth: 1, recorder: recorder))
        }
        connections.forEach { $0.startClosedLoop() }
        try await Task.sleep(for: .seconds(3))
        recorder.start()
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = (ContinuousClock.now - started).seconds
        recorder.stop()
        connections.forEach { $0.stop() }
        for connection in connections {
            try await connection.drain()
            await connection.close()
        }
        return (Double(recorder.completed) / elapsed, recorder.failed, recorder)
    }

    /// The same frames against a bare echo server on the project's TLS handler.
    func echoLoop(connections: Int, depth: Int) async throws -> (Double, Histogram<UInt64>) {
        let echo = try await EchoServer.start(tls: try TLSContext(.server(
            certificateChainPath: pki.serverCertificatePath, privateKeyPath: pki.serverKeyPath, clientCAPath: pki.caCertificatePath
        )))
        defer { echo.close(promise: nil) }
        return try await measure(ports: [echo.localAddress!.port!], connections: connections, depth: depth) { id, _ in Call.health.body(id: id) }
    }

    /// `body` makes a request from its id and its connection's lane.
    private func measure(
        ports: [Int], connections count: Int, depth: Int, body: @escaping @Sendable (Int64, Int) -> ByteBuffer
    ) async throws -> (Double, Histogram<UInt64>) {
        let recorder = LoadRecorder()
        let tls = try self.tls()
        var connections: [LoadConnection] = []
        for lane in 0..<count {
            connections.append(try await LoadConnection.open(
                port: ports[lane % ports.count], tls: tls, request: { body($0, lane) }, depth: depth, recorder: recorder
            ))
        }
        // A short warm-up, then the measured phase.
        connections.forEach { $0.startClosedLoop() }
        try await Task.sleep(for: .milliseconds(500))
        recorder.start()
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = (ContinuousClock.now - started).seconds
        recorder.stop()
        connections.forEach { $0.stop() }
        let completed = recorder.completed
        if recorder.failed > 0 {
            throw BenchError("\(recorder.failed) calls failed during the measurement; the first: \(recorder.firstFailure ?? "?")")
        }
        for connection in connections {
            try await connection.drain()
            await connection.close()
        }
        return (Double(completed) / elapsed, recorder.histogram)
    }

    /// Verify sent at a fixed rate; latency counts from when each request was due, so a stall
    /// shows in the figures instead of slowing the load (no coordinated omission).
    func openLoop(rate: Double, connections count: Int) async throws -> (rate: Double, histogram: Histogram<UInt64>) {
        let recorder = LoadRecorder()
        let tls = try self.tls()
        var connections: [LoadConnection] = []
        for lane in 0..<count {
            connections.append(try await LoadConnection.open(port: server.port, tls: tls, request: { Call.verify.body(id: $0, lane: lane) }, depth: 0, recorder: recorder))
        }
        let interval = TimeAmount.nanoseconds(Int64(1e9 / rate))
        recorder.start()
        let start = NIODeadline.now()
        var next = start
        var sent = 0
        while next < start + .seconds(Int64(seconds)) {
            let wait = next - .now()
            if wait > .zero { try await Task.sleep(for: .nanoseconds(wait.nanoseconds)) }
            connections[sent % count].send(scheduledAt: next)
            sent += 1
            next = next + interval
        }
        // Let the last requests finish before reading the figures.
        let drainDeadline = ContinuousClock.now + .seconds(30)
        while recorder.completed + recorder.failed < sent, ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        recorder.stop()
        for connection in connections { await connection.close() }
        return (Double(recorder.completed) / Double(seconds), recorder.histogram)
    }

    // MARK: Handshakes

    func handshakesPerSecond(port: Int) throws -> Double {
        try sTime(port: port)
    }

    func opensslServerHandshakesPerSecond() throws -> Double {
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = [
            "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCertificatePath, "-key", pki.serverKeyPath,
            "-CAfile", pki.caCertificatePath, "-Verify", "1", "-quiet",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            // s_server shrugs off SIGTERM while it serves.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while !canConnect(port: port) {
            guard Date() < deadline else { throw BenchError("openssl s_server did not start") }
            usleep(20_000)
        }
        return try sTime(port: port)
    }

    /// Full handshakes per second, as `openssl s_time -new` counts them, with an agent certificate.
    private func sTime(port: Int) throws -> Double {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_time", "-connect", "127.0.0.1:\(port)", "-new", "-time", String(seconds),
            "-cert", pki.certificatePath(role: "agent"), "-key", pki.keyPath(role: "agent"), "-CAfile", pki.caCertificatePath,
        ]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let match = text.firstMatch(of: #/(\d+) connections in (\d+) real seconds/#), let count = Double(match.1), let real = Double(match.2), real > 0 else {
            throw BenchError("could not read openssl s_time's output: \(text)")
        }
        return count / real
    }

    // MARK: Idle connections

    /// verityd's resident memory before and while `count` mTLS connections sit idle.
    func idleConnections(_ count: Int) async throws -> (Int, Int) {
        let before = server.residentBytes
        let recorder = LoadRecorder()
        let tls = try self.tls()
        var connections: [LoadConnection] = []
        connections.reserveCapacity(count)
        while connections.count < count {
            let batch = min(100, count - connections.count)
            try await withThrowingTaskGroup(of: LoadConnection.self) { group in
                for _ in 0..<batch {
                    group.addTask { try await LoadConnection.open(port: server.port, tls: tls, request: { Call.health.body(id: $0) }, depth: 0, recorder: recorder) }
                }
                for try await connection in group { connections.append(connection) }
            }
        }
        try await Task.sleep(for: .seconds(1))
        let after = server.residentBytes
        for connection in connections { await connection.close() }
        return (before, after)
    }

    static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(System.coreCount) cores, \(cpu), \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }

    private func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 ? getsockname(descriptor, $0, &length) : -1 }
        }
        guard result == 0 else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
