//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityProtocol

/// `verity.v1.Health`: whether the server serves, for load balancers and monitors.
struct HealthService: RegistrableService {
    func registerMethods(with router: inout RPCRouter) {
        router.register(.healthCheck) { (_: CheckRequest, _) in
            return { CheckResponse(status: .serving) }
        }
    }
}
