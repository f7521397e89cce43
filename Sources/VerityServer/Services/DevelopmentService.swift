//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Development`: registered only on a development server started with its clock
/// movable (`verityd --dev-clock`), so that a change request's seven-day waits can be watched in
/// a minute. A production server answers `UNIMPLEMENTED`.
struct DevelopmentService: RegistrableService {
    let service: CredentialService
    let clock: ServiceClock

    /// A year: the longest step forward.
    static let longestAdvance = 365 * 24 * 3600

    func registerMethods(with router: inout RPCRouter) {
        let (service, clock) = (self.service, self.clock)
        router.register(.advanceClock) { (request: AdvanceClockRequest, call) in
            guard (1...Self.longestAdvance).contains(request.seconds) else {
                throw RPCError.invalidArgument(field: "seconds", reason: "OUT_OF_RANGE", "seconds is 1 to \(Self.longestAdvance)")
            }
            return {
                clock.advance(by: Double(request.seconds))
                try await service.recordClockAdvance(by: request.seconds, context: call.context)
                let taken = try await service.takeDueSteps()
                return AdvanceClockResponse(now: Timestamp.string(from: service.currentTime), stepsTaken: taken)
            }
        }
    }
}
