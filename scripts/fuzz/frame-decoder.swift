// libFuzzer target: the frame decoder, fed the input in two chunks (split where the first byte
// says), as TCP may deliver it. Built and run by scripts/fuzz/run; not part of the package.
import NIOCore
import NIOEmbedded
import VerityProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 4096)))
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for chunk in [bytes[..<split], bytes[split...]] where !chunk.isEmpty {
        do {
            try channel.writeInbound(ByteBuffer(bytes: chunk))
        } catch {
            break
        }
    }
    while let frame = try? channel.readInbound(as: ByteBuffer.self) {
        precondition(frame.readableBytes <= 4096, "a frame over the limit was delivered")
    }
    _ = try? channel.finish()
    return 0
}
