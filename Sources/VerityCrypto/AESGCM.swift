//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import COpenSSL

/// AES-256-GCM through OpenSSL's EVP interface, for payloads kept at rest (the notification outbox).
///
/// A sealed box is `nonce (12 bytes) || ciphertext || tag (16 bytes)`; the nonce is random for
/// every seal, and the associated data binds the box to its row so it cannot be moved to another.
public enum AESGCM {
    public static let keyLength = 32
    static let nonceLength = 12
    static let tagLength = 16

    /// Encrypts and authenticates `plaintext` under `key`.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        precondition(key.count == keyLength, "AES-256 takes a 32-byte key")
        let nonce = SecureRandom.bytes(count: nonceLength)
        let context = try CipherContext()
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        var length: Int32 = 0
        var total = 0
        guard EVP_EncryptInit_ex(context.pointer, EVP_aes_256_gcm(), nil, key, nonce) == 1,
            associatedData.isEmpty || EVP_EncryptUpdate(context.pointer, nil, &length, associatedData, Int32(associatedData.count)) == 1,
            EVP_EncryptUpdate(context.pointer, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1
        else { throw OpenSSLError.drain(after: "EVP_EncryptUpdate") }
        total = Int(length)
        let finished = ciphertext.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(context.pointer, $0.baseAddress! + total, &length) }
        guard finished == 1, EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else {
            throw OpenSSLError.drain(after: "EVP_EncryptFinal_ex")
        }
        total += Int(length)
        return nonce + ciphertext.prefix(total) + tag
    }

    /// Decrypts a sealed box, or throws if it was altered, moved or sealed under another key.
    public static func open(_ box: [UInt8], key: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        precondition(key.count == keyLength, "AES-256 takes a 32-byte key")
        guard box.count >= nonceLength + tagLength else { throw OpenSSLError(operation: "AES-GCM open", queue: ["box too short"]) }
        let nonce = Array(box.prefix(nonceLength))
        var tag = Array(box.suffix(tagLength))
        let ciphertext = Array(box.dropFirst(nonceLength).dropLast(tagLength))
        let context = try CipherContext()
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(context.pointer, EVP_aes_256_gcm(), nil, key, nonce) == 1,
            associatedData.isEmpty || EVP_DecryptUpdate(context.pointer, nil, &length, associatedData, Int32(associatedData.count)) == 1,
            EVP_DecryptUpdate(context.pointer, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1,
            EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1
        else { throw OpenSSLError.drain(after: "EVP_DecryptUpdate") }
        let total = Int(length)
        let finished = plaintext.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(context.pointer, $0.baseAddress! + total, &length) }
        guard finished == 1 else { throw OpenSSLError(operation: "AES-GCM open", queue: ["authentication failed"]) }
        return Array(plaintext.prefix(total + Int(length)))
    }
}

/// An `EVP_CIPHER_CTX`, freed with its owner.
private final class CipherContext {
    let pointer: OpaquePointer

    init() throws {
        ERR_clear_error()
        guard let pointer = EVP_CIPHER_CTX_new() else { throw OpenSSLError.drain(after: "EVP_CIPHER_CTX_new") }
        self.pointer = pointer
    }

    deinit { EVP_CIPHER_CTX_free(pointer) }
}
