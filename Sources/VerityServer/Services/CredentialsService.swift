//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Credentials`: setting, defaulting, checking and changing the security details.
struct CredentialsService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.setSecurityDetails, hashes: true) { (request: SetSecurityDetailsRequest, call) in
            let id = try SubjectID(request.subjectId)
            let details = SecurityFactors(pin: request.pin, password: request.password)
            try service.checkPolicies(details)
            return { SetSecurityDetailsResponse(state: .init(try await service.setSecurityDetails(id, details, context: call.context))) }
        }
        router.register(.applyDefaults) { (request: ApplyDefaultsRequest, call) in
            let id = try SubjectID(request.subjectId)
            return { ApplyDefaultsResponse(state: .init(try await service.applyDefaults(id, context: call.context))) }
        }
        router.register(.verify, hashes: true) { (request: VerifyRequest, call) in
            let id = try SubjectID(request.subjectId)
            let channel = try WireMapping.enumValue(VerificationChannel.self, request.channel, field: "channel")
            let factors = SecurityFactors(pin: request.pin, password: request.password)
            try factors.checkOffered()
            return { WireMapping.response(try await service.verify(id, factors, channel: channel, context: call.context), call: call) }
        }
        router.register(.change, hashes: true) { (request: ChangeRequest, call) in
            let id = try SubjectID(request.subjectId)
            let channel = try request.channel.map { raw throws(RPCError) in try WireMapping.enumValue(VerificationChannel.self, raw, field: "channel") } ?? .portal
            let current = SecurityFactors(pin: request.currentPin, password: request.currentPassword)
            let new = SecurityFactors(pin: request.newPin, password: request.newPassword)
            try current.checkOffered(prefix: "current")
            try new.checkOffered(prefix: "new")
            return {
                WireMapping.response(try await service.change(id, current: current, new: new, channel: channel, context: call.context), call: call)
            }
        }
    }
}
