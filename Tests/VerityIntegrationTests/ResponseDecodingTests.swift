//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import Testing
import VerityProtocol

@testable import VerityClient

/// How the Swift client reads a response frame's status.
@Suite("Reading a response's status")
struct ResponseDecodingTests {
    /// A status code from a newer server is an error (`UNKNOWN`), even with a message beside it:
    /// only code 0 is success.
    @Test func anUnknownCodeIsAnErrorEvenWithAMessage() throws {
        let body = ByteBuffer(string: #"{"id":1,"status":{"code":42,"name":"NEW_CODE","message":"later"},"message":{}}"#)
        #expect(throws: RPCError(.unknown, "later")) { try VerityClient.decode(body, as: EmptyMessage.self) }
    }

    @Test func okNeedsAMessage() throws {
        #expect(try VerityClient.decode(ByteBuffer(string: #"{"id":1,"status":{"code":0,"name":"OK"},"message":{}}"#), as: EmptyMessage.self) == EmptyMessage())
        #expect(throws: RPCError.self) { try VerityClient.decode(ByteBuffer(string: #"{"id":1,"status":{"code":0,"name":"OK"}}"#), as: EmptyMessage.self) }
    }

    /// A value a newer server may send still decodes, and the known ones read like enum cases.
    @Test func wireNamesAreOpen() throws {
        let newer = try VerityClient.decode(
            ByteBuffer(string: #"{"id":1,"status":{"code":0,"name":"OK"},"message":{"result":"STEPPED_UP","attemptsRemaining":3}}"#),
            as: VerificationResponse.self
        )
        #expect(newer.result.rawValue == "STEPPED_UP")
        let known = try VerityClient.decode(
            ByteBuffer(string: #"{"id":1,"status":{"code":0,"name":"OK"},"message":{"result":"VERIFIED","attemptsRemaining":3}}"#),
            as: VerificationResponse.self
        )
        switch known.result {
        case .verified: break
        default: Issue.record("VERIFIED did not match .verified")
        }
    }
}
