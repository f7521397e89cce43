//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The envelope's own members, read from the frame without reading the message.
///
/// A frame without a usable `id` throws a ``FrameViolation``; any other fault of the envelope is
/// kept in ``rejection`` (the first one in the order of `proto-spec/errors.md`), so that the
/// request can still be answered under its id.
struct EnvelopeHead: Decodable {
    private enum Key: String, CodingKey {
        case id, method, timeoutMs, metadata, message
    }

    var id: Int64
    var method = ""
    var timeoutMs: Int64?
    var metadata: [String: String] = [:]
    var hasMessage = false
    var rejection: RPCError?

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard container.contains(.id), let id = try? container.decode(Int64.self, forKey: .id), (1...RequestEnvelope.maximumID).contains(id) else {
            throw FrameViolation.invalidID
        }
        self.id = id
        do throws(RPCError) {
            method = try Self.method(in: container)
            timeoutMs = try Self.timeout(in: container)
            metadata = try Self.metadata(in: container)
            hasMessage = try Self.hasObjectMessage(in: container)
        } catch {
            rejection = error
        }
    }

    private static func method(in container: KeyedDecodingContainer<Key>) throws(RPCError) -> String {
        guard container.contains(.method) else { throw .invalidArgument(field: "method", reason: "REQUIRED", "method is required") }
        guard let method = try? container.decode(String.self, forKey: .method) else {
            throw .invalidArgument(field: "method", reason: "WRONG_TYPE", "method must be a string")
        }
        return method
    }

    private static func timeout(in container: KeyedDecodingContainer<Key>) throws(RPCError) -> Int64? {
        guard container.contains(.timeoutMs) else { return nil }
        guard let timeout = try? container.decode(Int64.self, forKey: .timeoutMs) else {
            throw .invalidArgument(field: "timeoutMs", reason: "WRONG_TYPE", "timeoutMs must be an integer")
        }
        guard timeout > 0 else { throw .invalidArgument(field: "timeoutMs", reason: "OUT_OF_RANGE", "timeoutMs must be positive") }
        return timeout
    }

    private static func hasObjectMessage(in container: KeyedDecodingContainer<Key>) throws(RPCError) -> Bool {
        guard container.contains(.message) else { return false }
        guard (try? container.decodeNil(forKey: .message)) == false,
              (try? container.nestedContainer(keyedBy: AnyKey.self, forKey: .message)) != nil
        else {
            throw .invalidArgument(field: "message", reason: "WRONG_TYPE", "message must be an object")
        }
        return true
    }

    private static func metadata(in container: KeyedDecodingContainer<Key>) throws(RPCError) -> [String: String] {
        guard container.contains(.metadata) else { return [:] }
        guard (try? container.decodeNil(forKey: .metadata)) == false,
              let entries = try? container.nestedContainer(keyedBy: AnyKey.self, forKey: .metadata)
        else {
            throw .invalidArgument(field: "metadata", reason: "WRONG_TYPE", "metadata must be an object of strings")
        }
        var metadata: [String: String] = [:]
        for key in entries.allKeys {
            guard let text = try? entries.decode(String.self, forKey: key) else {
                throw .invalidArgument(field: "metadata.\(key.stringValue)", reason: "WRONG_TYPE", "metadata values are strings")
            }
            try checkMetadata(key: key.stringValue, text)
            metadata[key.stringValue] = text
        }
        return metadata
    }

    private static func checkMetadata(key: String, _ text: String) throws(RPCError) {
        guard (1...64).contains(key.utf8.count), key.utf8.allSatisfy(isMetadataKeyByte) else {
            throw .invalidArgument(field: "metadata", reason: "INVALID_VALUE", "metadata keys are 1 to 64 ASCII letters, digits or '-'")
        }
        // Counted in Unicode scalars and UTF-8 bytes: one user-perceived character can carry
        // thousands of combining scalars.
        guard text.unicodeScalars.count <= 256, text.utf8.count <= 1024 else {
            throw .invalidArgument(field: "metadata.\(key)", reason: "TOO_LONG", "metadata values have at most 256 Unicode scalars and 1024 UTF-8 bytes")
        }
        guard !text.unicodeScalars.contains(where: RequestEnvelope.isInvisibleOrBreaking) else {
            throw .invalidArgument(
                field: "metadata.\(key)", reason: "INVALID_VALUE",
                "metadata values hold no control, format (bidirectional, zero-width) or line-separator characters"
            )
        }
    }

    private static func isMetadataKeyByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
    }
}

/// A key of an object whose members are not known in advance.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
