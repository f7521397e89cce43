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

@Suite("Request envelopes")
struct EnvelopeTests {
    func parse(_ text: String) throws(FrameViolation) -> Result<RequestEnvelope, RejectedRequest> {
        try RequestEnvelope.parse(ByteBuffer(string: text))
    }

    @Test func readsAFullRequest() throws {
        let request = try parse(#"{"id": 17, "method": "verity.v1.Credentials/Verify", "timeoutMs": 2000, "metadata": {"requestId": "c0ffee", "actor": "agent:4711"}, "message": {"subjectId": "case-1/PWC"}, "extra": true}"#).get()
        #expect(request.id == 17)
        #expect(request.method == "verity.v1.Credentials/Verify")
        #expect(request.timeoutMs == 2000)
        #expect(request.metadata == ["requestId": "c0ffee", "actor": "agent:4711"])
        #expect(try request.decodeMessage(as: Subject.self).subjectId == "case-1/PWC")
    }

    struct Subject: Decodable { var subjectId: String? }

    @Test func anAbsentMessageIsEmpty() throws {
        #expect(try parse(#"{"id": 1, "method": "verity.v1.Health/Check"}"#).get().decodeMessage(as: Subject.self).subjectId == nil)
    }

    @Test(arguments: [(#""message": null"#, "WRONG_TYPE"), (#""message": "x""#, "WRONG_TYPE"), (#""metadata": null"#, "WRONG_TYPE"), (#""timeoutMs": 1.5"#, "WRONG_TYPE"), (#""metadata": {"a": 1}"#, "WRONG_TYPE")])
    func nullsAndWrongKindsAreWrongTypes(_ member: String, _ reason: String) throws {
        guard case let .failure(rejected) = try parse(#"{"id": 9, "method": "m", \#(member)}"#) else {
            Issue.record("accepted \(member)")
            return
        }
        #expect(rejected.id == 9)
        #expect(rejected.error.details["reason"] == .string(reason))
    }

    @Test(arguments: [
        ("[1]", FrameViolation.notAnObject), ("\"text\"", .notAnObject), ("null", .notAnObject), ("7", .notAnObject), ("{", .invalidJSON), ("{}", .invalidID),
        (#"{"id": 0}"#, .invalidID), (#"{"id": -3}"#, .invalidID), (#"{"id": 9007199254740992}"#, .invalidID),
        (#"{"id": "1"}"#, .invalidID), (#"{"id": true}"#, .invalidID), (#"{"id": 1.5}"#, .invalidID),
    ])
    func framesWithoutAUsableIDAreViolations(_ text: String, _ violation: FrameViolation) {
        #expect(throws: violation) { try parse(text) }
    }

    @Test func invalidUTF8IsAViolation() {
        #expect(throws: FrameViolation.invalidUTF8) { try RequestEnvelope.parse(ByteBuffer(bytes: [0x7B, 0xC3, 0x28, 0x7D])) }
    }

    @Test(arguments: [
        (#"{"id": 3}"#, "method", "REQUIRED"), (#"{"id": 3, "method": 5}"#, "method", "WRONG_TYPE"),
        (#"{"id": 3, "method": "m", "timeoutMs": 0}"#, "timeoutMs", "OUT_OF_RANGE"),
        (#"{"id": 3, "method": "m", "timeoutMs": "5"}"#, "timeoutMs", "WRONG_TYPE"),
        (#"{"id": 3, "method": "m", "metadata": []}"#, "metadata", "WRONG_TYPE"),
        (#"{"id": 3, "method": "m", "metadata": {"bad key": "v"}}"#, "metadata", "INVALID_VALUE"),
        (#"{"id": 3, "method": "m", "message": [1]}"#, "message", "WRONG_TYPE"),
    ])
    func requestLevelErrorsKeepTheID(_ text: String, _ field: String, _ reason: String) throws {
        guard case let .failure(rejected) = try parse(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(rejected.id == 3)
        #expect(rejected.error.code == .invalidArgument)
        #expect(rejected.error.details == ["field": .string(field), "reason": .string(reason)])
    }

    @Test func messageDecodingNamesTheField() throws {
        struct Message: Decodable {
            struct Phone: Decodable { var number: String }
            var subjectId: String
            var phones: [Phone]
        }
        func decode(_ message: String) throws {
            _ = try parse(#"{"id": 2, "method": "m", "message": \#(message)}"#).get().decodeMessage(as: Message.self)
        }
        #expect(throws: RPCError.invalidArgument(field: "subjectId", reason: "REQUIRED", "subjectId is required")) {
            try decode(#"{"phones": []}"#)
        }
        #expect(throws: RPCError.invalidArgument(field: "subjectId", reason: "WRONG_TYPE", "subjectId must be a string")) {
            try decode(#"{"subjectId": 4, "phones": []}"#)
        }
        #expect(throws: RPCError.invalidArgument(field: "phones[0].number", reason: "WRONG_TYPE", "phones[0].number must be a string")) {
            try decode(#"{"subjectId": "s", "phones": [{"number": 1}]}"#)
        }
        #expect(throws: RPCError.invalidArgument(field: "subjectId", reason: "REQUIRED", "subjectId is required")) {
            _ = try parse(#"{"id": 2, "method": "m"}"#).get().decodeMessage(as: Message.self)
        }
    }

    @Test func responsesCarryAMessageOnlyWhenOK() throws {
        let ok = String(buffer: try ResponseEnvelope.ok(id: 4, EmptyMessage()).encode(allocator: ByteBufferAllocator()))
        #expect(ok.contains(#""message":{}"#))
        let error = String(buffer: try ResponseEnvelope.error(id: 4, RPCError(.notFound, "no subject x")).encode(allocator: ByteBufferAllocator()))
        #expect(!error.contains(#""message":{"#))
        #expect(error.contains(#""name":"NOT_FOUND""#))
    }

    @Test func everyStatusCodeHasItsGRPCName() {
        #expect(StatusCode.allCases.count == 17)
        #expect(StatusCode(rawValue: 13)?.name == "INTERNAL")
        #expect(StatusCode(rawValue: 16)?.name == "UNAUTHENTICATED")
    }
}
