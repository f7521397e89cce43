//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import VerityClient
import VerityProtocol

/// Output for people and scripts, secrets from a prompt, and the mapping of failures to exit codes.
enum Console {
    static func printTable(_ rows: [(String, String?)]) {
        let shown = rows.compactMap { key, value in value.map { (key, $0) } }
        let width = shown.map(\.0.count).max() ?? 0
        for (key, value) in shown {
            print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("verityctl: \(message)\n".utf8))
    }

    /// Reads a secret: from a prompt without echo on a terminal, else one line of standard input.
    ///
    /// - Parameter name: what is asked for, for the error when nothing is given ("the PIN").
    static func readSecret(_ prompt: String, naming name: String) throws -> String {
        let secret: String?
        if isatty(STDIN_FILENO) == 1 {
            // Echo goes off before the prompt shows, so that nothing typed after it can appear.
            var original = termios()
            tcgetattr(STDIN_FILENO, &original)
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &silent)
            FileHandle.standardError.write(Data("\(prompt): ".utf8))
            secret = readLine()
            tcsetattr(STDIN_FILENO, TCSANOW, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        } else {
            // The prompt still goes to standard error, so that it shows when the answer is piped in.
            FileHandle.standardError.write(Data("\(prompt): ".utf8))
            secret = readLine()
        }
        guard let secret, !secret.isEmpty else {
            throw ValidationError("No \(name) was given: type it when asked, or pipe it to standard input.")
        }
        return secret
    }

    /// Runs one command's work, turning failures into a message that says what to do next and
    /// a documented exit code.
    static func run(_ options: ConnectionOptions, _ work: (VerityClient) async throws -> Int32) async throws {
        let client = try options.client()
        let code: Int32
        do {
            code = try await work(client)
        } catch let failure as RPCError {
            error(describe(failure))
            code = exitCode(for: failure.code)
        }
        await client.close()
        if code != 0 { throw ExitCode(code) }
    }

    static func exitCode(for code: StatusCode) -> Int32 {
        switch code {
        case .ok: 0
        case .invalidArgument, .outOfRange: 64
        case .unavailable, .deadlineExceeded, .resourceExhausted: 69
        case .permissionDenied, .unauthenticated, .notFound, .alreadyExists, .failedPrecondition, .aborted, .unimplemented: 1
        case .cancelled, .unknown, .internalError, .dataLoss: 70
        }
    }

    static func describe(_ error: RPCError) -> String {
        var text = "\(error.code.name): \(error.message)"
        let details = [("field", error.details["field"]), ("reason", error.details["reason"])].compactMap { name, value in
            value?.stringValue.map { "\(name) \($0)" }
        }
        if !details.isEmpty { text += " (\(details.joined(separator: ", ")))" }
        switch error.code {
        case .unavailable:
            text += "\nIs verityd running? Start one with `swift run verityd`, or name its address with --server."
        case .permissionDenied:
            text += "\nUse a certificate whose role may call this (--role, or --cert/--key); see proto-spec/auth.md."
        case .failedPrecondition where error.details["reason"] == .string("BLOCKED"):
            text += "\nUnblock first: verityctl unblock SUBJECT --reason \"...\""
        default:
            break
        }
        return text
    }

    /// Prints a check's answer and returns 0 only if it verified.
    static func report(_ result: VerificationResultName, attemptsRemaining: Int, subject: String, json: Bool) throws -> Int32 {
        if json {
            try printJSON(VerificationResponse(result: result, attemptsRemaining: attemptsRemaining))
        } else {
            printTable([("result", result.rawValue), ("attempts left", String(attemptsRemaining))])
            if result == .blocked { print("The subject is blocked: verityctl unblock \(subject) --reason \"...\"") }
        }
        return result == .verified ? 0 : 1
    }
}
