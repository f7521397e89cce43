//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
import VerityProtocol

@Suite("Frame decoding")
struct FrameDecoderTests {
    func frame(_ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(text.utf8.count))
        buffer.writeString(text)
        return buffer
    }

    @Test func framesSurviveAnySplitOfTheStream() throws {
        let inputs = ["{\"id\":1}", String(repeating: "x", count: 1000), "y"]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: inputs.map { (frame($0), [ByteBuffer(string: $0)]) },
            decoderFactory: { FrameDecoder(maximumFrameBytes: 4096) }
        )
    }

    @Test func aLengthIsCheckedAsSoonAsItArrives() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 16)))
        #expect(throws: FrameViolation.frameTooLarge(maximum: 16)) { try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 17])) }
    }

    @Test func anEmptyFrameIsAViolation() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 16)))
        #expect(throws: FrameViolation.emptyFrame) { try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 0])) }
    }

    @Test func theBodyOfAFrameIsNeverReadAsALength() throws {
        // A body whose first bytes would be an oversize length must not be mistaken for one.
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 16)))
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 6]))
        try channel.writeInbound(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1, 2]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1, 2]))
    }

    @Test func progressTellsWhetherAFrameIsHalfReceived() throws {
        let progress = FrameProgress()
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 64, progress: progress)))
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 4, 1]))
        #expect(progress.hasPartialFrame)
        try channel.writeInbound(ByteBuffer(bytes: [2, 3, 4]))
        #expect(!progress.hasPartialFrame)
    }
}
