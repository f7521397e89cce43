//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import VerityCore
import VerityCrypto
import VerityStore

/// The victim of the crash test: it starts a real security check against the store named on
/// its command line, says "evaluating" once the attempt is reserved and the secret is about to
/// be compared, and then hangs until the test kills it with SIGKILL.
///
/// Usage: `VerityCrashProbe DATABASE SUBJECT_ID`; the guessed PIN comes on standard input so
/// that it never shows in a process list.
@main
struct CrashProbe {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let pin = readLine() else {
            FileHandle.standardError.write(Data("usage: VerityCrashProbe DATABASE SUBJECT_ID < pin\n".utf8))
            exit(64)
        }
        // The probe is killed before it appends any audit event, so a keyring of its own will do.
        let keyring = try PepperKeyring.random()
        let store = try SQLiteCredentialStore(path: arguments[1], keyring: keyring)
        let service = try CredentialService(store: store, hasher: HangingHasher(), keyring: keyring)
        let context = CallContext(caller: "crash-probe", role: "verifier")
        _ = try await service.verify(try SubjectID(arguments[2]), SecurityFactors(pin: pin), channel: .phone, context: context)
        FileHandle.standardError.write(Data("the check finished without being killed\n".utf8))
        exit(70)
    }
}

/// A hasher that announces the evaluation and never returns from it.
struct HangingHasher: SecretHashing {
    func hash(_ secret: String) throws -> String {
        fatalError("the crash probe only checks secrets")
    }

    func verify(_ secret: String, against encoded: String) throws -> SecretMatch {
        FileHandle.standardOutput.write(Data("evaluating\n".utf8))
        while true { pause() }
    }

    func performDecoyVerification(of secret: String) {}
}
