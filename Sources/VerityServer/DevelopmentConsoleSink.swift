//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import VerityCore

/// The development mode's stand-in for an agency's mail and SMS systems: it leases every
/// delivery in the outbox, prints it to standard output, clearly marked as not sent, and
/// acknowledges it. `verityd` runs it only when it made its own development PKI.
struct DevelopmentConsoleSink {
    let service: CredentialService
    let logger: Logger
    private let context = CallContext(caller: "development-console-sink", role: "notifier")

    func run() async {
        while !Task.isCancelled {
            do {
                for delivery in try await service.leaseDeliveries(max: 20, leaseSeconds: 60, channels: Set(DeliveryChannel.allCases), context: context) {
                    FileHandle.standardOutput.write(Data(Self.render(delivery).utf8))
                    try await service.acknowledgeDelivery(delivery.id, leaseToken: delivery.leaseToken, outcome: .sent, context: context)
                }
            } catch {
                logger.warning("the development console sink failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    static func render(_ delivery: LeasedDelivery) -> String {
        let variables = delivery.content.variables.sorted { $0.key < $1.key }.map { "│   \($0.key): \($0.value)" }.joined(separator: "\n")
        return """
            ┌─ DEVELOPMENT CONSOLE SINK: not sent; production hands this to the agency's mail, SMS or letter system
            │ \(delivery.channel.rawValue) to \(delivery.content.destination.replacingOccurrences(of: "\n", with: " / ")), template \(delivery.content.template)
            \(variables)
            └─

            """
    }
}
