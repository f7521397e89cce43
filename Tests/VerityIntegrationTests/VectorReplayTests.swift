//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VerityTestSupport

/// Replays `proto-spec/vectors/` against a real server, as every client library must.
@Suite("Conformance vectors")
struct VectorReplayTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto-spec/vectors")

    static func load(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: vectors.appendingPathComponent(name))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(document["cases"] as? [[String: Any]])
    }

    @Test func methodVectors() async throws {
        let server = try await TestServer.start()
        var connections: [String: TestConnection] = [:]
        var nextID: Int64 = 1
        for testCase in try Self.load("methods.json") {
            let name = testCase["name"] as? String ?? "?"
            for (index, step) in (testCase["steps"] as? [[String: Any]] ?? []).enumerated() {
                let role = try #require(step["role"] as? String)
                if connections[role] == nil { connections[role] = try await server.connect(as: role) }
                var request = try #require(step["request"] as? [String: Any])
                request["id"] = nextID
                let body = try JSONSerialization.data(withJSONObject: request)
                try await connections[role]!.send(json: String(decoding: body, as: UTF8.self))
                let response = try await connections[role]!.response(id: nextID)
                let mismatch = PatternMatch.mismatch(step["response"] as Any, response)
                #expect(mismatch == nil, "\(name) step \(index + 1): \(mismatch ?? "") in \(String(describing: response))")
                nextID += 1
            }
        }
        try await server.stop()
    }

    @Test func framingVectors() async throws {
        let server = try await TestServer.start()
        // The duplicate-id case checks a subject that exists, so its first request is evaluated.
        let agent = try await server.connect(as: "agent")
        _ = try await agent.call("verity.v1.Subjects/Enroll", ["subjectId": "vector-dup", "kind": "CLIENT"])
        _ = try await agent.call("verity.v1.Credentials/SetSecurityDetails", ["subjectId": "vector-dup", "pin": "4829157"])
        for testCase in try Self.load("framing.json") {
            let name = testCase["name"] as? String ?? "?"
            let connection = try await server.connect(as: try #require(testCase["role"] as? String))
            try await connection.send(bytes: try #require(Self.bytes(hex: testCase["sendHex"] as? String ?? "")))
            let closes = testCase["closed"] as? Bool ?? false
            if let expected = testCase["expect"] as? [Any] {
                try await connection.waitForFrames(expected.count)
                if closes { try await connection.waitForClose() }
                var frames = connection.frames
                if testCase["expectAnyOrder"] as? Bool == true {
                    frames.sort { (($0["id"] as? NSNumber)?.intValue ?? 0) < (($1["id"] as? NSNumber)?.intValue ?? 0) }
                }
                let mismatch = PatternMatch.mismatch(expected, frames)
                #expect(mismatch == nil, "\(name): \(mismatch ?? "")")
            }
            if let included = testCase["expectIncludes"] as? [Any] {
                try await connection.waitForClose()
                for pattern in included {
                    #expect(connection.frames.contains { PatternMatch.mismatch(pattern, $0) == nil }, "\(name): no frame matches \(pattern)")
                }
            }
            if closes {
                try await connection.waitForClose()
            } else {
                #expect(try await connection.call("verity.v1.Health/Check").code == 0, "\(name): the connection should stay open")
            }
        }
        try await server.stop()
    }

    static func bytes(hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// The pattern language of `proto-spec/vectors/README.md`.
enum PatternMatch {
    /// A description of the first place where `actual` does not match `pattern`, or `nil`.
    static func mismatch(_ pattern: Any, _ actual: Any?, path: String = "$") -> String? {
        switch pattern {
        case let text as String where text == "<any>":
            return actual == nil ? "\(path) is missing" : nil
        case let text as String where text == "<timestamp>":
            guard let value = actual as? String, value.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil else {
                return "\(path) is not a timestamp: \(String(describing: actual))"
            }
            return nil
        case let text as String where text == "<hex64>":
            guard let value = actual as? String, value.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil else {
                return "\(path) is not 64 hex digits"
            }
            return nil
        case let object as [String: Any]:
            guard let actual = actual as? [String: Any] else { return "\(path) is not an object" }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                if let marker = value as? String, marker == "<absent>" {
                    if actual[key] != nil { return "\(path).\(key) should be absent but is \(actual[key]!)" }
                    continue
                }
                if let problem = mismatch(value, actual[key], path: "\(path).\(key)") { return problem }
            }
            return nil
        case let array as [Any]:
            guard let actual = actual as? [Any], actual.count == array.count else {
                return "\(path) should have \(array.count) elements: \(String(describing: actual))"
            }
            for (index, element) in array.enumerated() {
                if let problem = mismatch(element, actual[index], path: "\(path)[\(index)]") { return problem }
            }
            return nil
        default:
            guard let actual else { return "\(path) is missing" }
            return (pattern as? NSObject)?.isEqual(actual) == true ? nil : "\(path) is \(actual), expected \(pattern)"
        }
    }
}
