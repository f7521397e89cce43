// libFuzzer target: the v1 request message decoders. The first byte picks the message type,
// the rest is the JSON of its `message`, decoded from a frame as the server does.
import Foundation
import NIOCore
import VerityProtocol

let decoders: [(RequestEnvelope) throws -> Void] = [
    { _ = try $0.decodeMessage(as: EnrollRequest.self) }, { _ = try $0.decodeMessage(as: UpdateContactsRequest.self) },
    { _ = try $0.decodeMessage(as: GetStatusRequest.self) }, { _ = try $0.decodeMessage(as: SetSecurityDetailsRequest.self) },
    { _ = try $0.decodeMessage(as: VerifyRequest.self) }, { _ = try $0.decodeMessage(as: ChangeRequest.self) },
    { _ = try $0.decodeMessage(as: VerifyPinRequest.self) }, { _ = try $0.decodeMessage(as: IssueCodeRequest.self) },
    { _ = try $0.decodeMessage(as: VerifyCodeRequest.self) }, { _ = try $0.decodeMessage(as: LeaseRequest.self) },
    { _ = try $0.decodeMessage(as: AckRequest.self) }, { _ = try $0.decodeMessage(as: UnblockRequest.self) },
    { _ = try $0.decodeMessage(as: ListAuditRequest.self) }, { _ = try $0.decodeMessage(as: SetFactsRequest.self) },
    { _ = try $0.decodeMessage(as: RemoveFactsRequest.self) }, { _ = try $0.decodeMessage(as: ConfirmDocumentRequest.self) },
    { _ = try $0.decodeMessage(as: RaiseChangeRequestRequest.self) }, { _ = try $0.decodeMessage(as: ListChangeRequestsRequest.self) },
    { _ = try $0.decodeMessage(as: AcceptChangeRequestRequest.self) }, { _ = try $0.decodeMessage(as: EndChangeRequestRequest.self) },
    { _ = try $0.decodeMessage(as: AdvanceClockRequest.self) },
    { _ = try $0.decodeMessage(as: CompleteRegistrationRequest.self) }, { _ = try $0.decodeMessage(as: ResetPasswordRequest.self) },
    { _ = try $0.decodeMessage(as: SetLinkFactsRequest.self) }, { _ = try $0.decodeMessage(as: SubmitLinkRequest.self) },
    { _ = try $0.decodeMessage(as: SearchLinkRequestsRequest.self) }, { _ = try $0.decodeMessage(as: RejectLinkRequest.self) },
    { _ = try $0.decodeMessage(as: UnlinkAccountRequest.self) },
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: start, count: count)
    var frame = ByteBuffer(string: #"{"id":1,"method":"m","message":"#)
    frame.writeBytes(bytes.dropFirst())
    frame.writeString("}")
    guard case let .success(request)? = try? RequestEnvelope.parse(frame) else { return 0 }
    _ = try? decoders[Int(bytes[0]) % decoders.count](request)
    return 0
}
