//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Ivr`: the phone PIN, generated for a person and checked by the phone system.
struct IvrService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.generatePin, hashes: true) { (request: GeneratePinRequest, call) in
            let id = try SubjectID(request.subjectId)
            return {
                let generated = try await service.generateIVRPIN(for: id, context: call.context)
                return GeneratePinResponse(pin: generated.pin, updatedAt: Timestamp.string(from: generated.updatedAt))
            }
        }
        router.register(.verifyPin, hashes: true) { (request: VerifyPinRequest, call) in
            let id = try SubjectID(request.subjectId)
            try SecurityFactors.checkNotBlank(request.pin, field: "pin")
            return { WireMapping.response(try await service.verifyIVRPIN(id, pin: request.pin, context: call.context), call: call) }
        }
    }
}
