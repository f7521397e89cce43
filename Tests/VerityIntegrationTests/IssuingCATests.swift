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

/// An agency root with two issuing intermediates: one for Verity, one for anything else. Only
/// Verity's may issue its callers' certificates, whatever the bundle holds besides.
@Suite("Trusting only the issuing CA")
struct IssuingCATests {
    /// Makes, with the openssl command, in the folder given: a root, the intermediates `verity`
    /// and `other`, an admin certificate from each (`NAME-admin.pem`, leaf then intermediate), a
    /// revoked admin certificate from `verity`, its CRL, and the two bundles an operator might name.
    static let makePKI = #"""
        set -euo pipefail
        cd "$1"
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
        printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > leaf.ext
        key root.key
        openssl req -x509 -new -key root.key -subj "/CN=Agency Root" -days 2 -out root.pem \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        for ca in verity other; do
            key $ca.key
            openssl req -new -key $ca.key -subj "/CN=$ca issuing CA" -out $ca.csr
            openssl x509 -req -in $ca.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 -extfile ca.ext -out $ca.pem 2>/dev/null
        done
        leaf() {  # name issuer
            key $1-admin-key.pem
            openssl req -new -key $1-admin-key.pem -subj "/CN=$1-console/OU=admin" -out $1.csr
            openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -days 2 -extfile leaf.ext -out $1-leaf.pem 2>/dev/null
            cat $1-leaf.pem $2.pem > $1-admin.pem
        }
        leaf verity verity; leaf other other; leaf revoked verity
        mkdir -p crl && touch crl/index.txt && echo 01 > crl/crlnumber
        printf '[ca]\ndefault_ca=v\n[v]\ndatabase=crl/index.txt\ncrlnumber=crl/crlnumber\ndefault_md=sha256\ndefault_crl_days=2\ncertificate=verity.pem\nprivate_key=verity.key\n' > crl.cnf
        openssl ca -config crl.cnf -revoke revoked-leaf.pem -batch 2>/dev/null
        openssl ca -config crl.cnf -gencrl -out verity.crl -batch 2>/dev/null
        cp verity.pem issuing.pem
        cat verity.pem root.pem > issuing-and-root.pem
        echo made
        """#

    /// Starts a server trusting `bundle` (and `crl`), and copies the admin certificates into its PKI folder.
    static func server(bundle: String, crl: String? = nil) async throws -> (TestServer, TemporaryDirectory) {
        let directory = try TemporaryDirectory("issuing-ca")
        let make = try ChildProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", makePKI, "make-pki", directory.url.path])
        #expect(try await make.waitForExit().status == 0, "\(make.text)")
        let server = try await TestServer.start {
            $0.clientCAPath = directory.path(bundle)
            $0.clientCRLPath = crl.map { directory.path($0) }
        }
        for name in ["verity", "other", "revoked"] {
            try FileManager.default.copyItem(atPath: directory.path("\(name)-admin.pem"), toPath: server.pki.certificatePath(role: "\(name)-admin"))
            try FileManager.default.copyItem(atPath: directory.path("\(name)-admin-key.pem"), toPath: server.pki.keyPath(role: "\(name)-admin"))
        }
        return (server, directory)
    }

    static func isServed(_ role: String, by server: TestServer) async -> Bool {
        guard let connection = try? await server.connect(as: role) else { return false }
        return (try? await connection.call("verity.v1.Admin/VerifyAuditChain").code) == 0
    }

    @Test(arguments: ["issuing.pem", "issuing-and-root.pem"])
    func aSiblingIntermediatesAdminIsNotAnAdmin(bundle: String) async throws {
        let (server, _) = try await Self.server(bundle: bundle)
        #expect(await Self.isServed("verity-admin", by: server))
        #expect(await !Self.isServed("other-admin", by: server), "a certificate from a sibling CA was served with \(bundle)")
        try await server.stop()
    }

    @Test func aRevokedCertificateIsRefused() async throws {
        let (server, _) = try await Self.server(bundle: "issuing.pem", crl: "verity.crl")
        #expect(await Self.isServed("verity-admin", by: server))
        #expect(await !Self.isServed("revoked-admin", by: server))
        try await server.stop()
    }
}
