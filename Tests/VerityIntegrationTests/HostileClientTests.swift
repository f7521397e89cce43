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
        print("sent", sent, "blocked" if sent < total else "all", flush=True)
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
        let report = try await flood.waitForOutput(containing: "sent", timeout: .seconds(60))
        #expect(report.contains("blocked"), "the server read 64 MiB from a client that never reads: \(report)")
        let grown = try Self.residentKiB(of: verityd.pid) - before
        #expect(grown < 96 * 1024, "verityd grew by \(grown) KiB for one client that never reads")
        // The others are still served, at once.
        let started = ContinuousClock.now
        for _ in 0..<20 { #expect(try await other.call("verity.v1.Health/Check").code == 0) }
        #expect(ContinuousClock.now - started < .seconds(2))
        print("never-reading client: \(report.split(separator: "\n").last ?? ""), verityd grew by \(grown) KiB")
        try flood.closeInput()
        _ = try await flood.waitForExit()
        verityd.signal(SIGTERM)
        _ = try await verityd.waitForExit(timeout: .seconds(60))
    }
}
