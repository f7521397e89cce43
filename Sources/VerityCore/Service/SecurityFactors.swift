//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The secrets offered in one check or change; at least one is needed.
public struct SecurityFactors: Equatable, Sendable {
    public var pin: String?
    public var password: String?

    public init(pin: String? = nil, password: String? = nil) {
        self.pin = pin
        self.password = password
    }

    public var isEmpty: Bool { pin == nil && password == nil }

    /// Names of the factors given, as the audit trail writes them ("PIN", "password").
    var names: [String] {
        [pin.map { _ in "PIN" }, password.map { _ in "password" }].compactMap { $0 }
    }
}
