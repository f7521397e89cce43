//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Histogram
import NIOCore
import VerityClient
import VerityCrypto
import VerityTLS

/// `verity-bench`: how close verityd comes to the limits of its machine, measured in one run as
/// ratios to baselines on the same machine (raw KDF, a bare TLS echo, `openssl s_server`).
@main
struct VerityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verity-bench",
        abstract: "Measure verityd against its baselines, on loopback, and print a Markdown table.",
        discussion: "Build it in release mode next to verityd: swift run -c release verity-bench"
    )

    @Option(help: "Seconds each measured phase runs.") var seconds = 5
    @Option(help: "Idle mTLS connections to hold open for the memory figure (0 skips it).") var idleConnections = 10_000
    @Option(help: "Concurrency levels for Verify.") var verifyConcurrency: [Int] = [1, 2, 4, 8, 16]
    @Option(parsing: .upToNextOption, help: "The phases to run, all by default: \(Phase.allCases.map(\.rawValue).joined(separator: ", ")).")
    var phases: [Phase] = Phase.allCases
    @Option(help: "A PostgreSQL database for the two-instance phase (pair), postgres://USER@HOST:PORT/DATABASE; without it that phase is skipped.")
    var postgres: String?
    @Flag(help: "Only load verityd with GetStatus calls for --seconds, printing its pid first (for profiling).")
    var profileGetStatus = false

    enum Phase: String, CaseIterable, ExpressibleByArgument {
        case verify, cheap, handshakes, idle, overload, pair
    }

    func run() async throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("verityd")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("verity-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess(
            executable: executable, dataDirectory: directory.appendingPathComponent("data"),
            // The bench is one caller (one certificate) that opens every connection at once:
            // the per-caller and handshake budgets that protect a real service are lifted.
            extraArguments: [
                "--max-connections", String(idleConnections + 100), "--max-handshaking", String(idleConnections + 100),
                "--max-connections-per-caller", String(idleConnections + 100), "--hashing-queue", "100000", "--max-in-flight", "1024",
                "--max-in-flight-per-caller", "1000000", "--checks-per-minute-per-caller", "100000000",
            ]
        )
        defer { server.stop() }
        let bench = Bench(server: server, seconds: seconds)
        var report = Report(seconds: seconds)
        try await bench.prepare()
        report.environment = Bench.machine()
        if profileGetStatus {
            print("verityd pid \(server.process.processIdentifier)")
            let (rate, _) = try await bench.closedLoop(.getStatus, connections: 4, depth: 32)
            print(String(format: "GetStatus: %.1f calls/s", rate))
            return
        }

        if phases.contains(.verify) { try await measureVerify(bench, into: &report) }
        if phases.contains(.cheap) { try await measureCheapCalls(bench, into: &report) }
        if phases.contains(.handshakes) { try measureHandshakes(bench, port: server.port, into: &report) }
        if phases.contains(.idle), idleConnections > 0 { try await measureIdleConnections(bench, into: &report) }
        if phases.contains(.overload) { try await measureOverload(executable: executable, directory: directory, into: &report) }
        if phases.contains(.pair) {
            if let postgres {
                try await measurePair(executable: executable, directory: directory, store: postgres, beside: bench, into: &report)
            } else {
                log("pair: skipped; name a PostgreSQL database with --postgres")
            }
        }
        print(report.markdown)
    }

    /// 32 callers in a closed loop against a KDF of about half a second a hash, each waiting two
    /// seconds at most (as an IVR caller does), beside the same load with a deadline that never
    /// binds: those that can be served in time are, the others are refused at once.
    private func measureOverload(executable: URL, directory: URL, into report: inout Report) async throws {
        log("overload: 32 callers, a 2 s deadline, scrypt N=2^17")
        let server = try ServerProcess(
            executable: executable, dataDirectory: directory.appendingPathComponent("overload"),
            extraArguments: ["--scrypt-log-n", "17", "--hashing-queue", "100000", "--checks-per-minute-per-caller", "100000000"]
        )
        defer { server.stop() }
        let bench = Bench(server: server, seconds: seconds)
        try await bench.prepare()
        let phase = max(15, seconds * 3)
        let open = try await bench.overloadLoop(.verifyWithin(60_000), callers: 32, seconds: phase)
        let bounded = try await bench.overloadLoop(.verifyWithin(2_000), callers: 32, seconds: phase)
        report.add("Verify, 32 callers, 60 s deadline (never binds)", rate: open.served, unit: "verifies/s", histogram: open.2.histogram)
        report.add("Verify, 32 callers, 2 s deadline: served", rate: bounded.served, unit: "verifies/s", histogram: bounded.2.histogram)
        report.add(
            "Verify, 32 callers, 2 s deadline: refused", rate: Double(bounded.refused) / Double(phase), unit: "refusals/s",
            histogram: bounded.2.failedHistogram
        )
        report.ratio("served with a 2 s deadline / served without", bounded.served / open.served, target: 0.9)
        report.ratio("p99 ms of the served, 2 s deadline (target: at most 2000)", Double(bounded.2.histogram.valueAtPercentile(99)) / 1e6, target: 2000, atMost: true, isRatio: false)
        report.ratio("p99 ms of the refused (target: at most 50)", Double(bounded.2.failedHistogram.valueAtPercentile(99)) / 1e6, target: 50, atMost: true, isRatio: false)
    }

    /// One verityd on a PostgreSQL database, then two on it, each on its own port with the load
    /// split between them, beside the SQLite instance of the other phases: what the shared write
    /// lock costs, on the same cores.
    private func measurePair(executable: URL, directory: URL, store: String, beside sqlite: Bench, into report: inout Report) async throws {
        log("pair: one and two verityd instances on one PostgreSQL database, and the SQLite instance")
        let arguments = [
            "--store", store, "--hashing-queue", "100000", "--max-in-flight", "1024", "--max-in-flight-per-caller", "1000000",
            "--checks-per-minute-per-caller", "100000000",
        ]
        let data = directory.appendingPathComponent("pair")
        let first = try ServerProcess(executable: executable, dataDirectory: data, extraArguments: arguments)
        defer { first.stop() }
        let one = Bench(server: first, seconds: seconds)
        try await one.prepare()
        let second = try ServerProcess(executable: executable, dataDirectory: data, extraArguments: arguments)
        defer { second.stop() }
        let both = [first.port, second.port]
        let verifyConnections = 2 * System.coreCount

        let sqliteStatus = try await sqlite.closedLoop(.getStatus, connections: 4, depth: 32)
        let singleStatus = try await one.closedLoop(.getStatus, connections: 4, depth: 32)
        let pairStatus = try await one.closedLoop(.getStatus, connections: 4, depth: 32, ports: both)
        let sqliteVerify = try await sqlite.closedLoop(.verify, connections: verifyConnections, depth: 1)
        let singleVerify = try await one.closedLoop(.verify, connections: verifyConnections, depth: 1)
        let pairVerify = try await one.closedLoop(.verify, connections: verifyConnections, depth: 1, ports: both)
        report.add("GetStatus, 4 x 32, one instance on SQLite", rate: sqliteStatus.0, unit: "calls/s", histogram: sqliteStatus.1)
        report.add("GetStatus, 4 x 32, one instance on PostgreSQL", rate: singleStatus.0, unit: "calls/s", histogram: singleStatus.1)
        report.add("GetStatus, 4 x 32, two instances on PostgreSQL", rate: pairStatus.0, unit: "calls/s", histogram: pairStatus.1, note: "2 connections each")
        report.add("Verify, \(verifyConnections) in flight, one instance on SQLite", rate: sqliteVerify.0, unit: "verifies/s", histogram: sqliteVerify.1)
        report.add("Verify, \(verifyConnections) in flight, one instance on PostgreSQL", rate: singleVerify.0, unit: "verifies/s", histogram: singleVerify.1)
        report.add(
            "Verify, \(verifyConnections) in flight, two instances on PostgreSQL", rate: pairVerify.0, unit: "verifies/s", histogram: pairVerify.1,
            note: "\(verifyConnections / 2) connections each"
        )
        report.ratio("Verify, two instances / one, on PostgreSQL (same cores)", pairVerify.0 / singleVerify.0, target: 0.9)
        report.ratio("Verify on PostgreSQL / on SQLite, one instance", singleVerify.0 / sqliteVerify.0, target: 0.9)
    }

    private func measureVerify(_ bench: Bench, into report: inout Report) async throws {
        log("raw KDF, single hash and saturation")
        let oneHash = bench.singleHashSeconds()
        let rawKDF = bench.rawKDFThroughput()
        log("Verify at concurrency \(verifyConcurrency)")
        var best = (concurrency: 0, rate: 0.0, histogram: Histogram<UInt64>(highestTrackableValue: 60_000_000_000))
        for concurrency in verifyConcurrency {
            let (rate, histogram) = try await bench.closedLoop(.verify, connections: concurrency, depth: 1)
            report.add("Verify, \(concurrency) in flight", rate: rate, unit: "verifies/s", histogram: histogram)
            if rate > best.rate { best = (concurrency, rate, histogram) }
        }
        report.add("raw KDF (scrypt N=2^15, r=8, p=1), \(System.coreCount) threads", rate: rawKDF, unit: "hashes/s", histogram: nil)
        report.ratio("Verify at saturation / raw KDF", best.rate / rawKDF, target: 0.95)

        log("Verify at 70% of its best throughput, open loop")
        let half = try await bench.openLoop(rate: best.rate * 0.5, connections: 16)
        report.add("Verify at 50% load (\(String(format: "%.1f", best.rate * 0.5))/s)", rate: half.rate, unit: "verifies/s", histogram: half.histogram)
        let paced = try await bench.openLoop(rate: best.rate * 0.7, connections: 16)
        report.add("Verify at 70% load (\(String(format: "%.1f", best.rate * 0.7))/s)", rate: paced.rate, unit: "verifies/s", histogram: paced.histogram)
        report.add("one hash, one thread", rate: 1 / oneHash, unit: "hashes/s", histogram: nil, note: String(format: "%.1f ms a hash", oneHash * 1000))
        report.ratio("p99 Verify at 70% load / one hash", Double(paced.histogram.valueAtPercentile(99)) / 1e9 / oneHash, target: 3, atMost: true)
    }

    private func measureCheapCalls(_ bench: Bench, into report: inout Report) async throws {
        log("cheap calls against verityd and the bare TLS echo")
        let health = try await bench.closedLoop(.health, connections: 4, depth: 32)
        let status = try await bench.closedLoop(.getStatus, connections: 4, depth: 32)
        let echo = try await bench.echoLoop(connections: 4, depth: 32)
        report.add("Health/Check, 4 connections x 32 in flight", rate: health.0, unit: "calls/s", histogram: health.1)
        report.add("Subjects/GetStatus, 4 x 32", rate: status.0, unit: "calls/s", histogram: status.1)
        report.add("bare TLS echo of the same frames, 4 x 32", rate: echo.0, unit: "frames/s", histogram: echo.1)
        report.ratio("Health/Check / bare TLS echo", health.0 / echo.0, target: 0.9)
        report.ratio("GetStatus / bare TLS echo", status.0 / echo.0, target: 0.6)
    }

    private func measureHandshakes(_ bench: Bench, port: Int, into report: inout Report) throws {
        log("new mTLS connections: verityd and openssl s_server, both measured by openssl s_time")
        let handshakes = try bench.handshakesPerSecond(port: port)
        let opensslHandshakes = try bench.opensslServerHandshakesPerSecond()
        report.add("full mTLS handshakes against verityd (s_time)", rate: handshakes, unit: "handshakes/s", histogram: nil)
        report.add("full mTLS handshakes against openssl s_server (s_time)", rate: opensslHandshakes, unit: "handshakes/s", histogram: nil)
        report.ratio("verityd handshakes / openssl s_server", handshakes / opensslHandshakes, target: 0.8)
    }

    private func measureIdleConnections(_ bench: Bench, into report: inout Report) async throws {
        log("\(idleConnections) idle mTLS connections")
        let (before, after) = try await bench.idleConnections(idleConnections)
        report.add("verityd resident memory, no connections", rate: Double(before) / 1_048_576, unit: "MiB", histogram: nil)
        report.add("verityd resident memory, \(idleConnections) idle mTLS connections", rate: Double(after) / 1_048_576, unit: "MiB", histogram: nil)
        report.ratio("resident MiB with \(idleConnections) idle connections (target: at most 250)", Double(after) / 1_048_576, target: 250, atMost: true, isRatio: false)
    }

    private func log(_ text: String) {
        FileHandle.standardError.write(Data("verity-bench: \(text)\n".utf8))
    }
}
