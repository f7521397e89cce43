// libFuzzer target: the request envelope parser, on one frame's bytes.
import NIOCore
import VerityProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: start, count: count))
    if case let .success(request)? = try? RequestEnvelope.parse(buffer) {
        precondition(request.id > 0, "an envelope with a non-positive id was accepted")
    }
    return 0
}
