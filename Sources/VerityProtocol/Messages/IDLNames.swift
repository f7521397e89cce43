//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The IDL's names for messages that share one shape: each method's request and response goes
// by its IDL name (`GetStatusRequest`, `UnblockResponse`, ...), while one Swift type serves
// every message of the same fields.

/// `Subjects/GetStatus` request.
public typealias GetStatusRequest = SubjectRequest
/// `Credentials/ApplyDefaults` request.
public typealias ApplyDefaultsRequest = SubjectRequest
/// `Ivr/GeneratePin` request.
public typealias GeneratePinRequest = SubjectRequest

/// `Credentials/SetSecurityDetails` response.
public typealias SetSecurityDetailsResponse = StateResponse
/// `Credentials/ApplyDefaults` response.
public typealias ApplyDefaultsResponse = StateResponse
/// `Admin/Unblock` response.
public typealias UnblockResponse = StateResponse

/// `Subjects/UpdateContacts` response.
public typealias UpdateContactsResponse = EmptyMessage
/// `Notifications/Ack` response.
public typealias AckResponse = EmptyMessage
/// `Admin/VerifyAuditChain` request.
public typealias VerifyAuditChainRequest = EmptyMessage
/// `Health/Check` request.
public typealias CheckRequest = EmptyMessage
/// `Health/Check` response.
public typealias CheckResponse = HealthCheckResponse
