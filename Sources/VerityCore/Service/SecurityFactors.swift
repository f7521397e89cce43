//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The secrets offered in one check or change; at least one is needed.
package struct SecurityFactors: Equatable, Sendable {
    package var pin: String?
    package var password: String?

    package init(pin: String? = nil, password: String? = nil) {
        self.pin = pin
        self.password = password
    }

    package var isEmpty: Bool { pin == nil && password == nil }

    /// The request fields that carry the PIN and the password, such as `currentPin` for the prefix `current`.
    static func fields(prefix: String) -> (pin: String, password: String) {
        prefix.isEmpty ? ("pin", "password") : ("\(prefix)Pin", "\(prefix)Password")
    }

    /// Refuses factors that are missing altogether, or given but empty or only whitespace: an
    /// empty secret proves nothing, and would be compared as one.
    ///
    /// - Parameter prefix: names the request fields in errors: `""`, `"current"` or `"new"`.
    package func checkOffered(prefix: String = "") throws(CredentialError) {
        let fields = Self.fields(prefix: prefix)
        guard !isEmpty else {
            throw .invalidArgument(field: fields.pin, reason: "REQUIRED", message: "give a PIN, a password or both")
        }
        try Self.checkNotBlank(pin, field: fields.pin)
        try Self.checkNotBlank(password, field: fields.password)
    }

    /// Refuses a secret that is present but empty or only whitespace (reason `EMPTY`).
    package static func checkNotBlank(_ secret: String?, field: String) throws(CredentialError) {
        guard let secret, secret.unicodeScalars.allSatisfy(\.properties.isWhitespace) else { return }
        throw .invalidArgument(field: field, reason: "EMPTY", message: "\(field) is empty or only spaces")
    }

    /// Names of the factors given, as the audit trail writes them ("PIN", "password").
    var names: [String] {
        [pin.map { _ in "PIN" }, password.map { _ in "password" }].compactMap { $0 }
    }
}
