//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A release-built `verityd` started beside the bench, on a port of its own choosing.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let dataDirectory: URL
    private let output = Pipe()

    init(executable: URL, dataDirectory: URL, extraArguments: [String]) throws {
        self.dataDirectory = dataDirectory
        process.executableURL = executable
        process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path, "--metrics-listen", "off", "--log-level", "notice"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = output
        try process.run()
        let handle = output.fileHandleForReading
        port = try Self.readPort(from: handle)
        // Keep draining the log so that verityd never blocks on a full pipe.
        Thread.detachNewThread { while !handle.availableData.isEmpty {} }
    }

    /// verityd logs `... 127.0.0.1:PORT [VerityServer] serving` at notice level.
    private static func readPort(from handle: FileHandle) throws -> Int {
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let data = handle.availableData
            guard !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasSuffix("] serving") }),
                let match = line.firstMatch(of: #/127\.0\.0\.1:(\d+) /#), let port = Int(match.1) {
                return port
            }
        }
        throw BenchError("verityd did not start: \(text)")
    }

    /// The server's resident memory, from `/proc`.
    var residentBytes: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
