//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// An X.509 certificate, and the means to issue one with OpenSSL's API.
public final class Certificate: @unchecked Sendable {
    let certificate: OpaquePointer

    private init(certificate: OpaquePointer) {
        self.certificate = certificate
    }

    deinit { X509_free(certificate) }

    /// What a certificate is for, which decides its extensions.
    public enum Profile: Sendable {
        /// A CA that may sign end-entity certificates only.
        case certificateAuthority
        /// A TLS server, valid for the given DNS names and IP addresses.
        case server(dnsNames: [String], ipAddresses: [String])
        /// A TLS client.
        case client
    }

    /// The distinguished name fields Verity uses.
    public struct Name: Sendable {
        public var commonName: String
        public var organizationalUnit: String?
        public var organization: String?

        public init(commonName: String, organizationalUnit: String? = nil, organization: String? = nil) {
            self.commonName = commonName
            self.organizationalUnit = organizationalUnit
            self.organization = organization
        }
    }

    /// Issues a certificate for `publicKey`, signed by `issuerKey` under `issuer` (or self-signed
    /// when `issuer` is `nil`), with a random 128-bit serial number and SHA-256.
    public static func issue(
        name: Name,
        publicKey: PrivateKey,
        profile: Profile,
        validDays: Int,
        issuer: Certificate?,
        issuerKey: PrivateKey
    ) throws -> Certificate {
        ERR_clear_error()
        guard let x509 = X509_new() else { throw CertificateError.openSSL("X509_new") }
        let certificate = Certificate(certificate: x509)
        guard X509_set_version(x509, 2) == 1 else { throw CertificateError.openSSL("X509_set_version") }
        try setRandomSerial(x509)
        X509_gmtime_adj(X509_getm_notBefore(x509), -3600)
        X509_gmtime_adj(X509_getm_notAfter(x509), validDays * 86_400)
        guard X509_set_pubkey(x509, publicKey.key) == 1 else { throw CertificateError.openSSL("X509_set_pubkey") }
        let subject = X509_get_subject_name(x509)
        try add("O", name.organization, to: subject)
        try add("OU", name.organizationalUnit, to: subject)
        try add("CN", name.commonName, to: subject)
        let issuerName = issuer.map { X509_get_subject_name($0.certificate) } ?? subject
        guard X509_set_issuer_name(x509, issuerName) == 1 else { throw CertificateError.openSSL("X509_set_issuer_name") }
        for (nid, value) in extensions(for: profile) {
            try addExtension(nid, value, to: x509, issuer: issuer?.certificate ?? x509)
        }
        guard X509_sign(x509, issuerKey.key, EVP_sha256()) > 0 else { throw CertificateError.openSSL("X509_sign") }
        return certificate
    }

    /// Every certificate of a PEM file, in order.
    public static func all(inPEMFile path: String) throws -> [Certificate] {
        ERR_clear_error()
        guard let file = BIO_new_file(path, "r") else { throw TLSError.configuration("cannot read \(path)") }
        defer { BIO_free(file) }
        var certificates: [Certificate] = []
        while let x509 = PEM_read_bio_X509(file, nil, nil, nil) { certificates.append(Certificate(certificate: x509)) }
        ERR_clear_error()
        guard !certificates.isEmpty else { throw TLSError.configuration("no certificate in \(path)") }
        return certificates
    }

    /// Reads the first certificate of a PEM text.
    public convenience init(pem: String) throws {
        let bio = try MemoryBIO(pem)
        ERR_clear_error()
        guard let x509 = PEM_read_bio_X509(bio.bio, nil, nil, nil) else { throw CertificateError.openSSL("PEM_read_bio_X509") }
        self.init(certificate: x509)
    }

    public func pem() throws -> String {
        let bio = try MemoryBIO()
        guard PEM_write_bio_X509(bio.bio, certificate) == 1 else { throw CertificateError.openSSL("PEM_write_bio_X509") }
        return bio.contents()
    }

    /// The subject's CN and OU.
    public var subject: PeerIdentity { PeerIdentity(certificate: certificate) }

    private static func extensions(for profile: Profile) -> [(Int32, String)] {
        switch profile {
        case .certificateAuthority:
            [
                (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ]
        case let .server(dnsNames, ipAddresses):
            [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth"), (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid"),
                (NID_subject_alt_name, (dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")),
            ]
        case .client:
            [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "clientAuth"), (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid"),
            ]
        }
    }

    private static func setRandomSerial(_ x509: OpaquePointer) throws {
        guard let number = BN_new() else { throw CertificateError.openSSL("BN_new") }
        defer { BN_free(number) }
        guard BN_rand(number, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1,
            let serial = BN_to_ASN1_INTEGER(number, nil)
        else { throw CertificateError.openSSL("BN_rand") }
        defer { ASN1_INTEGER_free(serial) }
        guard X509_set_serialNumber(x509, serial) == 1 else { throw CertificateError.openSSL("X509_set_serialNumber") }
    }

    private static func add(_ field: String, _ value: String?, to name: OpaquePointer?) throws {
        guard let value else { return }
        let bytes = Array(value.utf8)
        guard X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
            throw CertificateError.openSSL("X509_NAME_add_entry_by_txt(\(field))")
        }
    }

    private static func addExtension(_ nid: Int32, _ value: String, to x509: OpaquePointer, issuer: OpaquePointer) throws {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer, x509, nil, nil, 0)
        guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
            throw CertificateError.openSSL("X509V3_EXT_conf_nid(\(value))")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(x509, ext, -1) == 1 else { throw CertificateError.openSSL("X509_add_ext") }
    }
}
