//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Portal`: registration on the self-service portal and a password reset by code.
struct PortalService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.startRegistration) { (request: StartRegistrationRequest, call) in
            let id = try SubjectID(request.subjectId)
            return {
                let started = try await service.startPortalRegistration(for: id, context: call.context)
                return StartRegistrationResponse(
                    subjectId: started.subjectID.rawValue, maskedDestination: started.maskedDestination, expiresAt: Timestamp.string(from: started.expiresAt)
                )
            }
        }
        router.register(.completeRegistration, hashes: true) { (request: CompleteRegistrationRequest, call) in
            try service.checkPolicies(SecurityFactors(password: request.password))
            return {
                let completed = try await service.completePortalRegistration(token: request.token, password: request.password, context: call.context)
                return CompleteRegistrationResponse(subjectId: completed.subject.rawValue, state: .init(completed.state))
            }
        }
        router.register(.resetPassword, hashes: true) { (request: ResetPasswordRequest, call) in
            let id = try SubjectID(request.subjectId)
            try WireMapping.checkID(request.challengeId, field: "challengeId")
            try service.checkPolicies(SecurityFactors(password: request.newPassword), fieldPrefix: "new")
            return {
                let state = try await service.resetPortalPassword(id, challenge: request.challengeId, newPassword: request.newPassword, context: call.context)
                return ResetPasswordResponse(state: .init(state))
            }
        }
    }
}
