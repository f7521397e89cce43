// libFuzzer target: a certificate (DER, as PEM) and the subject parser that names the caller.
import Foundation
import VerityTLS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let der = Data(UnsafeBufferPointer(start: start, count: count))
    let pem = "-----BEGIN CERTIFICATE-----\n\(der.base64EncodedString(options: .lineLength64Characters))\n-----END CERTIFICATE-----\n"
    if let certificate = try? Certificate(pem: pem) {
        let subject = certificate.subject
        _ = subject.commonName
        _ = subject.organizationalUnit
    }
    return 0
}
