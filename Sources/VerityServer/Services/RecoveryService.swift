//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCore
import VerityProtocol

/// `verity.v1.Recovery`: the facts on file, the fallback identity check, removing a password.
struct RecoveryService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.setFacts, hashes: true) { (request: SetFactsRequest, call) in
            let (id, facts) = (try SubjectID(request.subjectId), try Self.facts(request))
            guard !facts.kinds.isEmpty else {
                throw RPCError.invalidArgument(field: "identityDocument", reason: "REQUIRED", "give at least one fact: identityDocument, placeOfBirth or children")
            }
            _ = try facts.canonicalForms()
            return { SetFactsResponse(factsOnFile: try await service.setFacts(id, facts, context: call.context).map(FactKindName.init)) }
        }
        router.register(.removeFacts) { (request: RemoveFactsRequest, call) in
            let id = try SubjectID(request.subjectId)
            let kinds = try Self.kinds(request.facts)
            guard !kinds.isEmpty else { throw RPCError.invalidArgument(field: "facts", reason: "REQUIRED", "name the facts to remove") }
            _ = try CredentialService.auditedReason(request.reason, of: "removing a fact")
            return {
                RemoveFactsResponse(factsOnFile: try await service.removeFacts(id, kinds, reason: request.reason, context: call.context).map(FactKindName.init))
            }
        }
        router.register(.checkFacts, hashes: true) { (request: CheckFactsRequest, call) in
            let (id, facts) = (try SubjectID(request.subjectId), try Self.facts(request))
            _ = try facts.canonicalForms()
            return {
                let check = try await service.checkFacts(id, facts, context: call.context)
                _ = WireMapping.response(check.result, call: call)
                return CheckFactsResponse(
                    result: .init(check.result.outcome), attemptsRemaining: check.result.attemptsRemaining,
                    checked: check.checked.map(FactKindName.init), matched: check.matched.map(FactKindName.init)
                )
            }
        }
        router.register(.openRequest) { (request: OpenRequestRequest, call) in
            let id = try SubjectID(request.subjectId)
            return { Self.message(for: try await service.openRecoveryRequest(for: id, context: call.context), at: service.currentTime) }
        }
        router.register(.confirmDocument) { (request: ConfirmDocumentRequest, call) in
            try WireMapping.checkID(request.recoveryRequestId, field: "recoveryRequestId")
            let subject = try SubjectID(request.subjectId)
            _ = try CredentialService.auditedReason(request.reason, of: "confirming a document")
            return {
                let confirmed = try await service.confirmRecoveryDocument(request.recoveryRequestId, of: subject, reason: request.reason, context: call.context)
                return Self.message(for: confirmed, at: service.currentTime)
            }
        }
        router.register(.getRequest) { (request: GetRequestRequest, _) in
            try WireMapping.checkID(request.recoveryRequestId, field: "recoveryRequestId")
            return { Self.message(for: try await service.recoveryRequest(request.recoveryRequestId), at: service.currentTime) }
        }
        router.register(.removePassword) { (request: RemovePasswordRequest, call) in
            let id = try SubjectID(request.subjectId)
            return { RemovePasswordResponse(state: .init(try await service.removePassword(id, reason: request.reason, context: call.context))) }
        }
    }

    private static func message(for request: RecoveryRequest, at now: Date) -> RecoveryRequestResponse {
        RecoveryRequestResponse(
            recoveryRequestId: request.id, subjectId: request.subjectID.rawValue, status: .init(request.status(at: now)),
            openedAt: Timestamp.string(from: request.openedAt), expiresAt: Timestamp.string(from: request.expiresAt),
            closedAt: request.closedAt.map(Timestamp.string(from:))
        )
    }

    private static func kinds(_ names: [FactKindName]) throws(RPCError) -> [FactKind] {
        var kinds: [FactKind] = []
        for (index, name) in names.enumerated() { kinds.append(try WireMapping.enumValue(FactKind.self, name, field: "facts[\(index)]")) }
        return kinds
    }

    private static func facts(_ request: FactsRequest) throws(RPCError) -> IdentityFacts {
        let document = try request.identityDocument.map { message throws(RPCError) in
            IdentityDocument(
                kind: try WireMapping.enumValue(IdentityDocument.Kind.self, message.kind, field: "identityDocument.kind"),
                number: message.number, issuer: message.issuer
            )
        }
        return IdentityFacts(
            identityDocument: document,
            placeOfBirth: request.placeOfBirth.map { PlaceOfBirth(city: $0.city, state: $0.state) },
            children: request.children?.map { Child(fullName: $0.fullName, dateOfBirth: $0.dateOfBirth) }
        )
    }
}
