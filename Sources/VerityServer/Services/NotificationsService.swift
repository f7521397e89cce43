//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `verity.v1.Notifications`: the outbox, leased and acknowledged by the delivery systems.
struct NotificationsService: RegistrableService {
    let service: CredentialService

    func registerMethods(with router: inout RPCRouter) {
        let service = self.service
        router.register(.lease) { (request: LeaseRequest, call) in
            // A delivery is well under 1 KiB: leasing no more than fit in one frame means an answer
            // never fails for its size after the deliveries were leased.
            let fitting = Swift.max(1, (call.maximumFrameBytes - 256) / 1024)
            let max = (1...100).contains(request.max) ? Swift.min(request.max, fitting) : request.max
            var channels = Set<DeliveryChannel>()
            for (index, name) in (request.channels ?? []).enumerated() {
                channels.insert(try WireMapping.enumValue(DeliveryChannel.self, name, field: "channels[\(index)]"))
            }
            return { [channels] in
                let deliveries = try await service.leaseDeliveries(max: max, leaseSeconds: request.leaseSeconds, channels: channels, context: call.context)
                return LeaseResponse(deliveries: deliveries.map {
                    DeliveryMessage(
                        deliveryId: $0.id, leaseToken: $0.leaseToken, channel: .init($0.channel), destination: $0.content.destination,
                        template: $0.content.template, variables: $0.content.variables
                    )
                })
            }
        }
        router.register(.ack) { (request: AckRequest, call) in
            let outcome = try WireMapping.enumValue(DeliveryState.self, request.outcome, field: "outcome")
            return {
                try await service.acknowledgeDelivery(request.deliveryId, leaseToken: request.leaseToken, outcome: outcome, context: call.context)
                return AckResponse()
            }
        }
    }
}
