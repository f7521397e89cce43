//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Health`: whether the server serves, for load balancers and monitors:
/// `NOT_SERVING` while its store cannot be reached, so that a load balancer sends the callers
/// to an instance that can answer them.
struct HealthService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.healthCheck) { (_: CheckRequest, _) in
            return { CheckResponse(status: await service.storeIsReachable() ? .serving : .notServing) }
        }
    }
}
