//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The digit strings anyone guesses first: one digit repeated, or a straight run up or down.
enum DigitPatterns {
    static func isOneRepeatedDigit(_ digits: [UInt8]) -> Bool {
        Set(digits).count == 1
    }

    static func isStraightRun(_ digits: [UInt8]) -> Bool {
        let steps = Set(zip(digits, digits.dropFirst()).map { Int($1) - Int($0) })
        return steps == [1] || steps == [-1]
    }
}
