//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Text a caller chose (a method name, a request id, an actor), made safe for a log line.
///
/// A log line is read by people and by parsers: a caller must not be able to forge a line with
/// a newline, hide text with control characters, or flood the log with one huge value.
package enum LogText {
    /// The longest value kept, in Unicode scalars; longer ones are cut and marked `…`.
    package static let maximumLength = 128

    /// `text` with control characters escaped (`\n`, `\u{1B}`) and at most ``maximumLength`` scalars.
    package static func sanitized(_ text: String) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < maximumLength else {
                result += "…"
                break
            }
            count += 1
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                || scalar == "\u{2028}" || scalar == "\u{2029}" {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
