// libFuzzer target: every v1 request message decoder. The first byte picks the message type,
// the rest is the JSON of its `message`.
import Foundation
import VerityProtocol

let decoders: [(JSONValue) throws -> Void] = [
    { _ = try $0.decode(as: EnrollRequest.self) }, { _ = try $0.decode(as: UpdateContactsRequest.self) },
    { _ = try $0.decode(as: SubjectRequest.self) }, { _ = try $0.decode(as: SetSecurityDetailsRequest.self) },
    { _ = try $0.decode(as: VerifyRequest.self) }, { _ = try $0.decode(as: ChangeRequest.self) },
    { _ = try $0.decode(as: VerifyPinRequest.self) }, { _ = try $0.decode(as: IssueCodeRequest.self) },
    { _ = try $0.decode(as: VerifyCodeRequest.self) }, { _ = try $0.decode(as: LeaseRequest.self) },
    { _ = try $0.decode(as: AckRequest.self) }, { _ = try $0.decode(as: UnblockRequest.self) },
    { _ = try $0.decode(as: ListAuditRequest.self) },
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: start, count: count)
    guard let message = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.dropFirst())) else { return 0 }
    _ = try? decoders[Int(bytes[0]) % decoders.count](message)
    return 0
}
