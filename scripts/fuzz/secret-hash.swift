// libFuzzer target: the stored-hash parser and its bounds, as a row read from the store.
import VerityCrypto

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    if let hash = try? SecretHash(encoded: text) {
        _ = DerivationBounds.service.contains(hash.derivation)
        precondition((try? SecretHash(encoded: hash.encoded)) == hash, "a parsed hash does not read back the same")
    }
    return 0
}
