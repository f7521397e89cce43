//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing
@testable import VerityCrypto

@Suite("Pepper keyring")
struct PepperKeyringTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("verity-keyring-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var path: String { directory.appendingPathComponent("pepper.json").path }

    @Test func writesAnOwnerOnlyFileAndReadsItBack() throws {
        let keyring = try PepperKeyring.random(keyID: "dev-1").rotated(to: "dev-2")
        try keyring.write(to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let loaded = try PepperKeyring.load(from: path)
        #expect(loaded.currentKeyID == "dev-2")
        #expect(loaded.keyIDs == ["dev-1", "dev-2"])
        #expect(loaded.key(id: "dev-1") == keyring.key(id: "dev-1"))
        #expect(loaded.currentKey == keyring.currentKey)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o666])
    func refusesAFileOthersCanReach(mode: Int) throws {
        try PepperKeyring.random().write(to: path)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        #expect(throws: PepperKeyringError.insecurePermissions(path: path, mode: mode)) {
            try PepperKeyring.load(from: path)
        }
    }

    @Test func neverOverwritesAnExistingFile() throws {
        try PepperKeyring.random().write(to: path)
        #expect(throws: PepperKeyringError.self) { try PepperKeyring.random().write(to: path) }
    }

    @Test func refusesKeysOfTheWrongLengthAndBadIDs() {
        #expect(throws: PepperKeyringError.wrongKeyLength(keyID: "k1")) {
            try PepperKeyring(currentKeyID: "k1", keys: ["k1": [UInt8](repeating: 1, count: 16)])
        }
        #expect(throws: PepperKeyringError.invalidKeyID) {
            try PepperKeyring(currentKeyID: "k 1", keys: ["k 1": [UInt8](repeating: 1, count: 32)])
        }
        #expect(throws: PepperKeyringError.unknownCurrentKey("k2")) {
            try PepperKeyring(currentKeyID: "k2", keys: ["k1": [UInt8](repeating: 1, count: 32)])
        }
    }

    @Test func refusesMalformedAndMissingFiles() throws {
        #expect(throws: PepperKeyringError.unreadable(path: path)) { try PepperKeyring.load(from: path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data("{\"version\":1}".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: PepperKeyringError.malformed(path: path)) { try PepperKeyring.load(from: path) }
    }

    @Test func errorMessagesNeverHoldKeyMaterial() throws {
        let keyring = try PepperKeyring.random()
        try keyring.write(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        do {
            _ = try PepperKeyring.load(from: path)
            Issue.record("an insecure keyring was loaded")
        } catch {
            #expect(!"\(error)".contains(Data(keyring.currentKey).base64EncodedString()))
            #expect("\(error)".contains("chmod 600"))
        }
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let target = directory.appendingPathComponent("real.json").path
        try PepperKeyring.random().write(to: target)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        #expect(throws: PepperKeyringError.notARegularFile(path: path)) { try PepperKeyring.load(from: path) }
    }

    @Test func aDirectoryOthersCanWriteIsRefused() throws {
        try PepperKeyring.random().write(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path)
        #expect(throws: PepperKeyringError.insecureDirectory(path: directory.path, mode: 0o777)) { try PepperKeyring.load(from: path) }
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give a file away"))
    func aFileOfAnotherUserIsRefused() throws {
        try PepperKeyring.random().write(to: path)
        #expect(chown(path, 65_534, 65_534) == 0)
        #expect(throws: PepperKeyringError.wrongOwner(path: path, owner: 65_534)) { try PepperKeyring.load(from: path) }
    }
}
