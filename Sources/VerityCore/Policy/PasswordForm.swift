//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The two forms in which a special password is kept and compared.
///
/// On the portal the person types it, so it is compared exactly as first typed. On the phone
/// a caseworker hears it, so case and spacing cannot count (procedure 002's FAQ).
package enum PasswordForm: Sendable {
    /// Compared exactly, character for character.
    case exact
    /// Compared as spoken: case folded, spacing removed.
    case spoken

    /// The string that is hashed for this form.
    ///
    /// Both forms are Unicode-normalised first (NFC for the exact form, NFKC for the spoken
    /// one), so that the same characters typed on two keyboards hash alike.
    package func normalize(_ password: String) -> String {
        switch self {
        case .exact:
            password.precomposedStringWithCanonicalMapping
        case .spoken:
            password.precomposedStringWithCompatibilityMapping.lowercased().filter { !$0.isWhitespace }
        }
    }
}
