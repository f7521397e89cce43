//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A child process whose standard output and error the test reads, with a bounded wait for
/// every expectation, and which is killed if the test forgets to stop it.
package final class ChildProcess: @unchecked Sendable {
    package let process = Process()
    private let output = Pipe()
    private let input = Pipe()
    private let lock = NSLock()
    private var received: [UInt8] = []

    /// Starts `executable` with `arguments`; standard error is merged into standard output.
    package init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try Self.launching.withLock { try process.run() }
    }

    /// One launch at a time: Foundation's `Process.run()` was seen to crash (in `memcpy`, with
    /// another thread freeing) when tests started children at once.
    private static let launching = NSLock()

    /// Starts a program found on the `PATH`, such as `openssl`.
    package convenience init(command: String, _ arguments: [String]) throws {
        try self.init(URL(fileURLWithPath: "/usr/bin/env"), [command] + arguments)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    package var pid: Int32 { process.processIdentifier }

    /// Writes to the child's standard input.
    package func send(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    package func closeInput() throws {
        try input.fileHandleForWriting.close()
    }

    /// Everything the child has printed so far.
    package var text: String {
        drainAvailableOutput(waitMilliseconds: 0)
        return lock.withLock { String(decoding: received, as: UTF8.self) }
    }

    /// Waits until the child's output contains `needle`.
    ///
    /// The wait blocks a thread of its own, never one of Swift's cooperative pool, where the
    /// in-process servers of other tests answer (two such threads here: blocking them starves
    /// every test).
    @discardableResult
    package func waitForOutput(containing needle: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await Self.offThePool { try self.blockingWaitForOutput(containing: needle, timeout: timeout) }
    }

    private func blockingWaitForOutput(containing needle: String, timeout: Duration) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = lock.withLock { String(decoding: received, as: UTF8.self) }
            if text.contains(needle) { return text }
            guard ContinuousClock.now < deadline else { throw ChildProcessTimedOut(waitingFor: needle, output: text) }
            if !drainAvailableOutput(waitMilliseconds: 50) && !process.isRunning {
                throw ChildProcessTimedOut(waitingFor: needle, output: text)
            }
        }
    }

    /// Sends `signal` to the child.
    package func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the child to exit and returns its status, on a thread of its own.
    @discardableResult
    package func waitForExit(timeout: Duration = .seconds(30)) async throws -> (reason: Process.TerminationReason, status: Int32) {
        try await Self.offThePool { try self.blockingWaitForExit(timeout: timeout) }
    }

    private func blockingWaitForExit(timeout: Duration) throws -> (reason: Process.TerminationReason, status: Int32) {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw ChildProcessTimedOut(waitingFor: "exit", output: text) }
            drainAvailableOutput(waitMilliseconds: 20)
        }
        process.waitUntilExit()
        drainAvailableOutput(waitMilliseconds: 0)
        return (process.terminationReason, process.terminationStatus)
    }

    /// Runs a blocking wait on a new thread and resumes the caller when it is done.
    private static func offThePool<Value: Sendable>(_ wait: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try wait() }) }.start()
        }
    }

    /// Reads what is available without blocking longer than `waitMilliseconds`; `false` at end of output.
    @discardableResult
    private func drainAvailableOutput(waitMilliseconds: Int32) -> Bool {
        let descriptor = output.fileHandleForReading.fileDescriptor
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        var wait = waitMilliseconds
        var sawData = true
        while poll(&poller, 1, wait) > 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else {
                sawData = false
                break
            }
            lock.withLock { received += buffer.prefix(count) }
            wait = 0
        }
        return sawData
    }
}

package struct ChildProcessTimedOut: Error, CustomStringConvertible {
    package let waitingFor: String
    package let output: String
    package var description: String { "timed out waiting for \"\(waitingFor)\"; output so far:\n\(output)" }
}

/// A TCP port that was free a moment ago, for programs that cannot bind port 0 and report it.
package func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard bind(descriptor, pointer, length) == 0 else { return -1 }
            return getsockname(descriptor, pointer, &length)
        }
    }
    guard bound == 0 else { throw ChildProcessTimedOut(waitingFor: "a free port", output: "") }
    return Int(UInt16(bigEndian: address.sin_port))
}
