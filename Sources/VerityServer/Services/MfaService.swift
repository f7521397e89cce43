//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Mfa`: one-time codes, issued to a contact on file and verified once.
struct MfaService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.issueCode) { (request: IssueCodeRequest, call) in
            let id = try SubjectID(request.subjectId)
            let channel = try WireMapping.enumValue(CodeChannel.self, request.channel, field: "channel")
            let purpose = try WireMapping.enumValue(CodePurpose.self, request.purpose, field: "purpose")
            return {
                let issued = try await service.issueCode(to: id, channel: channel, purpose: purpose, destination: request.destination, context: call.context)
                return IssueCodeResponse(
                    challengeId: issued.challengeID, maskedDestination: issued.maskedDestination, expiresAt: Timestamp.string(from: issued.expiresAt)
                )
            }
        }
        router.register(.verifyCode) { (request: VerifyCodeRequest, call) in
            try SecurityFactors.checkNotBlank(request.code, field: "code")
            let subject = try SubjectID(request.subjectId)
            let purpose = try WireMapping.enumValue(CodePurpose.self, request.purpose, field: "purpose")
            return {
                let result = try await service.verifyCode(
                    challenge: request.challengeId, code: request.code, subject: subject, purpose: purpose, context: call.context
                )
                return VerifyCodeResponse(
                    result: .init(result.outcome), attemptsRemaining: result.attemptsRemaining, subjectId: subject.rawValue, purpose: .init(purpose)
                )
            }
        }
    }
}
