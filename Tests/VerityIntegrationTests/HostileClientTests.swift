//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTLS
import VerityTestSupport

/// Clients that do not play by the rules, against a real verityd process, whose memory we read.
@Suite("Hostile clients")
struct HostileClientTests {
    /// Pipelines Health requests with ever new ids and never reads an answer; stops when the
    /// server stops reading (a send blocks for 3 s) or after `total` bytes; then holds the
    /// connection open until its standard input closes.
    static let neverReading = #"""
        import json, socket, ssl, struct, sys
        port, ca, cert, key, total = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        context = ssl.create_default_context(cafile=ca)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["verity/1"])
        raw = socket.create_connection(("127.0.0.1", port))
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        tls = context.wrap_socket(raw, server_hostname="localhost")
        tls.settimeout(3)
        sent, next_id = 0, 1
        try:
            while sent < total:
                chunk = bytearray()
                for _ in range(2000):
                    body = json.dumps({"id": next_id, "method": "verity.v1.Health/Check"}).encode()
                    chunk += struct.pack(">I", len(body)) + body
                    next_id += 1
                tls.sendall(chunk)
                sent += len(chunk)
        except (socket.timeout, TimeoutError):
            pass
        print("sent", sent, "blocked" if sent < total else "all", "end", flush=True)
        sys.stdin.read()
        """#

    static func residentKiB(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    /// The bound: the write-buffer high-water mark (256 KiB) plus a budget of in-flight answers
    /// (256 of at most 64 KiB) per connection, far below what the flood would otherwise cost.
    @Test func aClientThatNeverReadsIsNoLongerReadAndCostsBoundedMemory() async throws {
        let directory = try TemporaryDirectory("verityd-never-reads")
        let verityd = try ChildProcess(VeritydProcessTests.verityd, [
            "--listen", "127.0.0.1:0", "--data-dir", directory.path("data"), "--metrics-listen", "off", "--log-level", "notice",
        ])
        let port = try await VeritydProcessTests.servingPort(of: verityd)
        let pki = DevelopmentPKI(existingIn: directory.url.appendingPathComponent("data/pki"))
        let other = try await TestConnection.open(port: port, pki: pki, role: "ivr", issuer: nil, alpn: ["verity/1"])
        #expect(try await other.call("verity.v1.Health/Check").code == 0)
        let before = try Self.residentKiB(of: verityd.pid)
        let flood = try ChildProcess(command: "python3", [
            "-c", Self.neverReading, String(port), pki.caCertificatePath, pki.certificatePath(role: "ivr"), pki.keyPath(role: "ivr"),
            String(64 << 20),
        ])
        let report = try await flood.waitForOutput(containing: " end", timeout: .seconds(60))
        #expect(report.contains("blocked"), "the server read 64 MiB from a client that never reads: \(report)")
        let grown = try Self.residentKiB(of: verityd.pid) - before
        #expect(grown < 96 * 1024, "verityd grew by \(grown) KiB for one client that never reads")
        // The others are still served while the flood's connection stays open and unread. (The
        // bound only catches starvation: the whole suite shares two cores.)
        let started = ContinuousClock.now
        for _ in 0..<20 { #expect(try await other.call("verity.v1.Health/Check").code == 0) }
        #expect(ContinuousClock.now - started < .seconds(20))
        print("never-reading client: \(report.split(separator: "\n").last ?? ""), verityd grew by \(grown) KiB")
        try flood.closeInput()
        _ = try await flood.waitForExit()
        verityd.signal(SIGTERM)
        _ = try await verityd.waitForExit(timeout: .seconds(60))
    }

    /// Opens a TCP connection that never says anything: a handshake that never starts.
    static func silentConnection(to port: Int) throws -> Int32 {
        // Close-on-exec: a child process that another test starts meanwhile must not hold the
        // connection open after we close it.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        return descriptor
    }

    /// Whether a new connection as `role` is served; it is closed again either way, so that it
    /// does not count against the budgets it probes.
    static func isServed(_ role: String, by server: TestServer) async -> Bool {
        guard let connection = try? await server.connect(as: role) else { return false }
        let served = (try? await connection.call("verity.v1.Health/Check").code) == 0
        await connection.close()
        return served
    }

    /// Connections that never finish a handshake fill only the handshake budget: established
    /// connections carry on, and new ones get in once the silent ones are gone (they would be
    /// closed at the handshake timeout; here they leave first, so that a loaded machine cannot
    /// make the timing race the probes).
    @Test func aHandshakeFloodTakesOnlyTheHandshakeBudget() async throws {
        let server = try await TestServer.start {
            $0.maximumHandshaking = 4
            $0.handshakeTimeout = .seconds(120)
        }
        let established = try await server.connect(as: "ivr")
        // Its handshake is done (and out of the budget) before the silent ones come.
        #expect(try await established.call("verity.v1.Health/Check").code == 0)
        let silent = try (0..<4).map { _ in try Self.silentConnection(to: server.port) }
        // The server has taken all four before the probes come: a probe accepted first would
        // take a silent one's place, and that one would be refused instead.
        try await waitUntil { server.openConnections == 5 }
        try await waitUntil(timeout: .seconds(60)) { await !Self.isServed("agent", by: server) }
        #expect(try await established.call("verity.v1.Health/Check").code == 0)
        silent.forEach { close($0) }
        try await waitUntil(timeout: .seconds(60)) { await Self.isServed("agent", by: server) }
        try await server.stop()
    }

    @Test func oneCallerCannotTakeEveryConnection() async throws {
        let server = try await TestServer.start { $0.maximumConnectionsPerCaller = 2 }
        let first = try await server.connect(as: "ivr")
        let second = try await server.connect(as: "ivr")
        // Both handshakes done, both counted, before a third tries.
        #expect(try await first.call("verity.v1.Health/Check").code == 0)
        #expect(try await second.call("verity.v1.Health/Check").code == 0)
        #expect(await !Self.isServed("ivr", by: server))
        #expect(await Self.isServed("agent", by: server))
        #expect(try await first.call("verity.v1.Health/Check").code == 0)
        await second.close()
        try await waitUntil { await Self.isServed("ivr", by: server) }
        try await server.stop()
    }

    /// Work queued for the hashing pool by a connection that then closes is dropped: nobody
    /// would read its answers, and the callers still connected should not wait behind it.
    @Test func queuedHashingOfAClosedConnectionIsDropped() async throws {
        let gate = Box<GatedHasher>()
        let server = try await TestServer.start(hasher: { gate.set(GatedHasher($0)) }) { $0.hashingConcurrency = 1 }
        let setup = try await server.connect(as: "agent")
        for id in 1...8 { _ = try await setup.call("verity.v1.Subjects/Enroll", ["subjectId": "q-\(id)", "kind": "CLIENT"]) }
        let leaving = try await server.connect(as: "agent")
        var bytes: [UInt8] = []
        for id in 1...8 {
            bytes += TestConnection.frame(Array(TestConnection.request(
                id: Int64(id), method: "verity.v1.Credentials/SetSecurityDetails", message: ["subjectId": "q-\(id)", "pin": "4829157"]
            ).utf8))
        }
        try await leaving.send(bytes: bytes)
        // The first job holds the only place in the pool; the others wait for it, or are on their way.
        try await waitUntil { gate.value.waitingJobs == 1 }
        await leaving.close()
        // The server has seen the close (two connections left: setup's and none other).
        try await waitUntil { server.openConnections == 1 }
        gate.value.openGate()
        // Only the job that was already running finishes (whichever of the eight reached the
        // pool first); every other one is dropped.
        @Sendable func subjectsWithAPIN() async throws -> Int {
            var set = 0
            for id in 1...8 where try await setup.call("verity.v1.Subjects/GetStatus", ["subjectId": "q-\(id)"]).body?["hasPin"] as? Bool == true {
                set += 1
            }
            return set
        }
        try await waitUntil { try await subjectsWithAPIN() > 0 }
        #expect(try await setup.call("verity.v1.Health/Check").code == 0)
        let set = try await subjectsWithAPIN()
        #expect(set == 1, "\(set) of 8 jobs ran for a connection that had closed")
        try await server.stop()
    }

    /// Thousands of made-up method names: each is answered UNIMPLEMENTED at once, and the
    /// other callers keep their latency.
    @Test func anUnknownMethodFloodIsAnsweredAndHarmsNoOne() async throws {
        let server = try await TestServer.start()
        let flood = try await server.connect(as: "verifier")
        let other = try await server.connect(as: "ivr")
        var bytes: [UInt8] = []
        for id in 1...5_000 {
            bytes += TestConnection.frame(Array(TestConnection.request(id: Int64(id), method: "verity.v1.Made/Up\(id)-\(String(repeating: "x", count: 200))").utf8))
        }
        try await flood.send(bytes: bytes)
        // Each answer still comes, while the flood is parsed on the same two cores as every other
        // test (the bound only catches starvation; latency is measured by verity-bench).
        for _ in 0..<10 {
            let started = ContinuousClock.now
            #expect(try await other.call("verity.v1.Health/Check").code == 0)
            #expect(ContinuousClock.now - started < .seconds(15))
        }
        try await flood.waitForFrames(5_000, timeout: .seconds(60))
        #expect(flood.frames.allSatisfy { $0.code == 12 })
        #expect(try await flood.call("verity.v1.Health/Check").code == 0)
        #expect(!server.logs.text.contains(String(repeating: "x", count: 150)))
        try await server.stop()
    }
}
