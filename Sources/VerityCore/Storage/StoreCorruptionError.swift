//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A row that holds a value the code cannot have written.
package struct StoreCorruptionError: Error, CustomStringConvertible {
    package let table: String
    package let id: String

    package init(table: String, id: String) {
        self.table = table
        self.id = id
    }

    package var description: String { "the \(table) row \(id) holds a value Verity cannot read; restore it from a backup" }
}
