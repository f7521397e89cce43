//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityProtocol
import VerityTLS

/// The system on the other end of a connection, as its verified certificate names it.
public struct Caller: Equatable, Sendable {
    public var identity: PeerIdentity
    /// The role its OU names; `nil` when the OU is not a Verity role, or the certificate does
    /// not hold exactly one CN and one OU, and then every request is answered UNAUTHENTICATED.
    public var role: Role?

    public init(identity: PeerIdentity) {
        self.identity = identity
        role = identity.commonName == nil ? nil : identity.organizationalUnit.flatMap(Role.init(rawValue:))
    }

    public var name: String { identity.commonName ?? "unnamed" }
}
