//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import PostgresNIO
import VerityCore

/// One connection inside one transaction, with SQL written as the SQLite store writes it: `?`
/// for each argument, in order. The store's statements are thereby the same text on both
/// engines wherever the two dialects agree.
struct SQLSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement, reading to its end whatever it returns: PostgreSQL reports an error that
    /// strikes while a statement runs (a lock timeout, say) after the rows' description, so a
    /// statement whose rows are not read could fail unseen.
    func execute(_ sql: String, _ arguments: [any SQLArgument] = []) async throws {
        for try await _ in try await connection.query(try Self.query(sql, arguments), logger: logger) {}
    }

    /// Runs a statement and reads every row it returns.
    func rows(_ sql: String, _ arguments: [any SQLArgument] = []) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(try Self.query(sql, arguments), logger: logger) {
            rows.append(row.makeRandomAccess())
        }
        return rows
    }

    /// The first row a statement returns, if any.
    func row(_ sql: String, _ arguments: [any SQLArgument] = []) async throws -> PostgresRandomAccessRow? {
        try await rows(sql, arguments).first
    }

    /// The first column of the first row, which the statement must return.
    func scalar<Value: PostgresDecodable>(_ sql: String, _ arguments: [any SQLArgument] = [], as type: Value.Type = Value.self) async throws -> Value {
        guard let row = try await row(sql, arguments) else { throw StoreQueryError(message: "no row for a scalar query") }
        return try row[0].decode(Value.self)
    }

    /// `sql` with each `?` outside a quoted literal numbered as PostgreSQL's `$1, $2, …`. The
    /// store's statements use no other quoting, no comments and no `?` operator.
    static func query(_ sql: String, _ arguments: [any SQLArgument]) throws -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?", !quoted {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        guard number == arguments.count else { throw StoreQueryError(message: "\(number) placeholders for \(arguments.count) arguments in: \(sql)") }
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments { argument.bind(to: &bindings) }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }
}

/// A value a statement takes for a `?`. Optionals bind as a typed NULL, so that PostgreSQL never
/// has to guess a parameter's type.
protocol SQLArgument: Sendable {
    func bind(to bindings: inout PostgresBindings)
}

extension SQLArgument where Self: PostgresDynamicTypeEncodable {
    func bind(to bindings: inout PostgresBindings) { bindings.append(self) }
}

extension String: SQLArgument {}
extension Int: SQLArgument {}
extension Int64: SQLArgument {}
extension Bool: SQLArgument {}
extension ByteBuffer: SQLArgument {}

extension Optional: SQLArgument where Wrapped: SQLArgument & PostgresDynamicTypeEncodable {
    func bind(to bindings: inout PostgresBindings) { bindings.append(self) }
}

/// A statement did not return what the store expects of it.
struct StoreQueryError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension PostgresRandomAccessRow {
    /// The column `name`, decoded.
    func value<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
        try self[name].decode(Value.self)
    }

    /// A time stored as milliseconds since 1970.
    func date(_ name: String) throws -> Date {
        Timestamp.date(milliseconds: try value(name, as: Int64.self))
    }

    /// A time stored as milliseconds since 1970, or NULL.
    func optionalDate(_ name: String) throws -> Date? {
        try value(name, as: Int64?.self).map(Timestamp.date(milliseconds:))
    }
}
