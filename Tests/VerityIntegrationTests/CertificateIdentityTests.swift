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

/// Certificates from the trusted CA whose subject does not name exactly one caller and one role.
@Suite("Identity from certificates")
struct CertificateIdentityTests {
    @Test(arguments: ["/OU=admin/OU=ivr", "/OU=admin/OU=ivr/CN=two-roles", "/OU=admin", "/CN=a/CN=b/OU=admin"])
    func anAmbiguousSubjectIsUnauthenticated(_ subject: String) async throws {
        let server = try await TestServer.start()
        try await Self.issue(subject: subject, as: "odd", by: server)
        let connection = try await server.connect(as: "odd")
        let answer = try await connection.call("verity.v1.Admin/VerifyAuditChain")
        #expect(answer.code == 16, "\(subject) was taken as \(answer)")
        try await server.stop()
    }

    @Test func oneCNAndOneOUIsTheRole() async throws {
        let server = try await TestServer.start()
        try await Self.issue(subject: "/CN=ops-console/OU=admin", as: "clear", by: server)
        let connection = try await server.connect(as: "clear")
        #expect(try await connection.call("verity.v1.Admin/VerifyAuditChain").code == 0)
        try await server.stop()
    }

    /// Issues a clientAuth certificate with `subject` from the server's development CA, with the
    /// openssl command, into the PKI folder as `NAME.pem` and `NAME-key.pem`.
    static func issue(subject: String, as name: String, by server: TestServer) async throws {
        let pki = server.pki
        let directory = URL(fileURLWithPath: pki.caCertificatePath).deletingLastPathComponent().path
        let extensions = directory + "/\(name).ext"
        try "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        let request = try ChildProcess(command: "openssl", [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", pki.keyPath(role: name), "-subj", subject, "-out", directory + "/\(name).csr",
        ])
        #expect(try await request.waitForExit().status == 0, "\(request.text)")
        let sign = try ChildProcess(command: "openssl", [
            "x509", "-req", "-in", directory + "/\(name).csr", "-CA", pki.caCertificatePath, "-CAkey", directory + "/ca-key.pem",
            "-CAcreateserial", "-days", "1", "-extfile", extensions, "-out", pki.certificatePath(role: name),
        ])
        #expect(try await sign.waitForExit().status == 0, "\(sign.text)")
    }
}
