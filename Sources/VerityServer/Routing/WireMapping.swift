//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import VerityCore
import VerityProtocol

/// Wire values to domain values, for every service's methods.
enum WireMapping {
    /// The domain value a wire name stands for, or INVALID_ARGUMENT `INVALID_VALUE` listing the allowed names.
    static func enumValue<Value: RawRepresentable & CaseIterable>(_ type: Value.Type, _ name: some WireName, field: String) throws(RPCError) -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: name.rawValue) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError.invalidArgument(field: field, reason: "INVALID_VALUE", "\(field) must be one of \(allowed)")
        }
        return value
    }

    static func contacts(_ message: ContactsMessage) throws(RPCError) -> Contacts {
        var phones: [Phone] = []
        for (index, phone) in (message.phones ?? []).enumerated() {
            phones.append(Phone(number: phone.number, type: try enumValue(PhoneType.self, phone.type, field: "contacts.phones[\(index)].type")))
        }
        let addresses = (message.postalAddresses ?? []).map { PostalAddress(lines: $0.lines, postalCode: $0.postalCode, country: $0.country) }
        return Contacts(emails: message.emails ?? [], phones: phones, postalAddresses: addresses)
    }

    /// An id the service made (a recovery or change request's): 32 lower-case hexadecimal digits.
    static func checkID(_ id: String, field: String) throws(RPCError) {
        guard id.utf8.count == 32, id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw RPCError.invalidArgument(field: field, reason: "INVALID_VALUE", "\(field) is 32 lower-case hexadecimal digits")
        }
    }

    /// The size of the frame that would carry `response`, with the longest request id.
    static func encodedSize(_ response: some Encodable & Sendable) throws -> Int {
        try ResponseEnvelope.ok(id: RequestEnvelope.maximumID, response).encode(allocator: ByteBufferAllocator()).readableBytes
    }

    /// A page that fits in one frame: the items, halved until the answer fits, and the cursor
    /// after the last one kept whenever any were left out.
    static func fittingPage<Item, Response: Encodable & Sendable>(
        _ items: [Item], next: PageCursor?, maximumFrameBytes: Int, cursor: (Item) -> PageCursor,
        _ response: ([Item], PageCursor?) -> Response
    ) throws -> Response {
        var (kept, next) = (items, next)
        while kept.count > 1, try encodedSize(response(kept, next)) > maximumFrameBytes - 256 {
            kept.removeLast(kept.count / 2)
            next = kept.last.map(cursor)
        }
        return response(kept, next)
    }

    /// The answer to a security check; a check that locked its subject is counted.
    static func response(_ result: VerificationResult, call: ServerCall) -> VerificationResponse {
        if result.lockedNow { call.recordLock() }
        return VerificationResponse(result: .init(result.outcome), attemptsRemaining: result.attemptsRemaining)
    }
}

extension WireName {
    /// The wire name of a domain value: the two spell their values alike.
    init<Value: RawRepresentable>(_ value: Value) where Value.RawValue == String {
        self.init(rawValue: value.rawValue)
    }
}
