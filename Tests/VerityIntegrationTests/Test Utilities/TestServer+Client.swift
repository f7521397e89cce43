//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityClient
import VerityProtocol

extension TestServer {
    /// A `VerityClient` with the development certificate of `role`, naming caseworker
    /// `agent:4711` in calls that need one.
    func client(role: String, port: Int? = nil, _ adjust: (inout VerityClient.Configuration) -> Void = { _ in }) -> VerityClient {
        var configuration = VerityClient.Configuration(
            port: port ?? self.port, certificatePath: pki.certificatePath(role: role),
            privateKeyPath: pki.keyPath(role: role), trustRootsPath: pki.caCertificatePath
        )
        configuration.defaultActor = "agent:4711"
        adjust(&configuration)
        return VerityClient(configuration: configuration)
    }
}

/// The error a call failed with, or `nil` when it succeeded (or failed with anything but an `RPCError`).
func rpcFailure(_ work: () async throws -> Void) async -> RPCError? {
    do {
        try await work()
        return nil
    } catch {
        return error as? RPCError
    }
}
