//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Subjects`: enrolment, contacts and status, mapped between the wire and the core.
struct SubjectsService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.enroll) { (request: EnrollRequest, call) in
            let id = try SubjectID(request.subjectId)
            let kind = try WireMapping.enumValue(SubjectKind.self, request.kind, field: "kind")
            let represented = try request.representsSubjectId.map { raw throws(CredentialError) in try SubjectID(raw, field: "representsSubjectId") }
            let contacts = try WireMapping.contacts(request.contacts ?? ContactsMessage())
            return {
                do {
                    let status = try await service.enroll(id, kind: kind, representing: represented, contacts: contacts, context: call.context)
                    return EnrollResponse(subjectId: status.subjectID.rawValue, state: .init(status.state))
                } catch let CredentialError.notFound(missing) where missing == represented {
                    throw RPCError(.notFound, "no subject \(missing)", details: ["field": "representsSubjectId"])
                }
            }
        }
        router.register(.updateContacts) { (request: UpdateContactsRequest, call) in
            let (id, contacts) = (try SubjectID(request.subjectId), try WireMapping.contacts(request.contacts))
            return {
                try await service.updateContacts(id, to: contacts, context: call.context)
                return UpdateContactsResponse()
            }
        }
        router.register(.getStatus) { (request: GetStatusRequest, _) in
            let id = try SubjectID(request.subjectId)
            return { Self.message(for: try await service.status(of: id)) }
        }
    }

    private static func message(for status: SubjectStatus) -> GetStatusResponse {
        GetStatusResponse(
            subjectId: status.subjectID.rawValue, kind: .init(status.kind),
            representsSubjectId: status.representsSubjectID?.rawValue, state: .init(status.state),
            consecutiveFailures: status.consecutiveFailures, blockedAt: status.blockedAt.map(Timestamp.string(from:)),
            blockReason: status.blockReason, hasPin: status.hasPIN, hasPassword: status.hasPassword,
            ivrPinUpdatedAt: status.ivrPINUpdatedAt.map(Timestamp.string(from:)), updatedAt: Timestamp.string(from: status.updatedAt)
        )
    }
}
