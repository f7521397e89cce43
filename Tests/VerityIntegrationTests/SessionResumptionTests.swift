//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTestSupport

/// Java, Go, curl and Python clients offer the session of their last connection when they
/// reconnect: every such reconnect must be served (`proto-spec/framing.md`: no resumption,
/// a full handshake each time).
@Suite("Reconnecting clients that offer resumption")
struct SessionResumptionTests {
    /// Three connections, each offering the session of the one before (TLS 1.3 and TLS 1.2).
    static let script = #"""
        import json, socket, ssl, struct, sys
        port, ca, cert, key, version = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        context = ssl.create_default_context(cafile=ca)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["verity/1"])
        if version == "1.2":
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        session = None
        for attempt in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
                with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                    body = json.dumps({"id": 1, "method": "verity.v1.Health/Check"}).encode()
                    tls.sendall(struct.pack(">I", len(body)) + body)
                    length = struct.unpack(">I", tls.recv(4))[0]
                    answer = json.loads(tls.recv(length))
                    print(attempt, answer["status"]["name"], "resumed" if tls.session_reused else "full")
                    session = tls.session
        """#

    @Test(arguments: ["1.3", "1.2"])
    func everyReconnectIsServed(version: String) async throws {
        let server = try await TestServer.start()
        let pki = server.pki
        let python = try ChildProcess(command: "python3", [
            "-c", Self.script, String(server.port), pki.caCertificatePath, pki.certificatePath(role: "ivr"), pki.keyPath(role: "ivr"), version,
        ])
        let exit = try await python.waitForExit(timeout: .seconds(200))
        #expect(exit.status == 0, "\(python.text)")
        #expect(python.text.components(separatedBy: " OK full").count == 4, "\(python.text)")
        try await server.stop()
    }
}
