//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The JSON columns of every store (contacts, audit facts, link facts) are written by one encoder,
/// so that a value reads back the same whichever store wrote it.
extension JSONEncoder {
    /// Shared, as making an encoder per row costs more than encoding it.
    package static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension JSONDecoder {
    /// Shared, as making a decoder per row costs more than decoding it.
    package static let shared = JSONDecoder()
}
