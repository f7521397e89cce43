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

/// How to reach verityd, who to be, and how to print: shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "verityd's address, HOST:PORT [VERITY_SERVER]. Default 127.0.0.1:7443.")
    var server: String?

    @Option(help: "Client certificate, PEM [VERITY_CERT]. Default DATA_DIR/pki/ROLE.pem.")
    var cert: String?

    @Option(help: "Client private key, PEM [VERITY_KEY]. Default DATA_DIR/pki/ROLE-key.pem.")
    var key: String?

    @Option(help: "CA that the server's certificate chains to, PEM [VERITY_CA]. Default DATA_DIR/pki/ca.pem.")
    var ca: String?

    @Option(help: "Role of the development certificate to use when --cert is not given.")
    var role = "admin"

    @Option(help: "A development verityd's data directory [VERITY_DATA_DIR]. Default ./.verity.")
    var dataDir: String?

    @Option(help: "Name the server's certificate must carry.")
    var serverName = "localhost"

    @Option(help: "Deadline of each call, in milliseconds.")
    var timeoutMs: Int?

    @Option(help: "The person on whose behalf you act, for the audit trail [VERITY_ACTOR]. Default: your login name.")
    var actor: String?

    @Flag(help: "Print JSON for scripts instead of tables.")
    var json = false

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The caseworker the audit trail names; acts on secrets and locks require one.
    var actorName: String? { actor ?? environment["VERITY_ACTOR"] ?? ProcessInfo.processInfo.userName }
    var timeout: Duration? { timeoutMs.map { .milliseconds($0) } }

    /// The client these options describe.
    func client() throws -> VerityClient {
        let address = server ?? environment["VERITY_SERVER"] ?? "127.0.0.1:7443"
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ValidationError("--server takes HOST:PORT, not \(address)")
        }
        let pki = URL(fileURLWithPath: dataDir ?? environment["VERITY_DATA_DIR"] ?? ".verity").appendingPathComponent("pki")
        let certificate = cert ?? environment["VERITY_CERT"] ?? pki.appendingPathComponent("\(role).pem").path
        let privateKey = key ?? environment["VERITY_KEY"] ?? pki.appendingPathComponent("\(role)-key.pem").path
        let trustRoots = ca ?? environment["VERITY_CA"] ?? pki.appendingPathComponent("ca.pem").path
        for (path, what) in [(certificate, "certificate"), (privateKey, "key"), (trustRoots, "CA certificate")]
        where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("""
                no \(what) at \(path). Run verityctl next to a development verityd (`swift run verityd` makes \
                .verity/pki), or name --cert, --key and --ca.
                """)
        }
        var configuration = VerityClient.Configuration(
            host: String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port,
            serverName: serverName, certificatePath: certificate, privateKeyPath: privateKey, trustRootsPath: trustRoots
        )
        configuration.defaultTimeout = timeout
        return VerityClient(configuration: configuration)
    }
}
