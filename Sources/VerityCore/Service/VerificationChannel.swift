//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Where a check was made, which decides how a password is compared.
package enum VerificationChannel: String, CaseIterable, Sendable {
    /// Spoken to a person or an IVR: the password is compared as spoken.
    case phone = "PHONE"
    /// Typed on the self-service portal: the password is compared exactly.
    case portal = "PORTAL"

    var passwordForm: PasswordForm {
        switch self {
        case .phone: .spoken
        case .portal: .exact
        }
    }
}
