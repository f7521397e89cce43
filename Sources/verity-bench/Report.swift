//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Histogram

/// The figures of one run, as the Markdown table that goes into `Benchmarks/README.md`.
struct Report {
    let seconds: Int
    var environment = ""
    private var rows: [String] = []
    private var ratios: [String] = []

    init(seconds: Int) {
        self.seconds = seconds
    }

    mutating func add(_ name: String, rate: Double, unit: String, histogram: Histogram<UInt64>?, note: String = "") {
        let latency = histogram.map { histogram in
            [50.0, 99.0, 99.9].map { String(format: "%.2f", Double(histogram.valueAtPercentile($0)) / 1e6) }.joined(separator: " | ")
        } ?? "- | - | -"
        rows.append("| \(name) | \(String(format: "%.1f", rate)) \(unit) | \(latency) | \(note) |")
    }

    mutating func ratio(_ name: String, _ value: Double, target: Double, atMost: Bool = false, isRatio: Bool = true) {
        let met = atMost ? value <= target : value >= target
        let shown = String(format: isRatio ? "%.2f" : "%.1f", value)
        ratios.append("| \(name) | \(shown) | \(atMost ? "≤" : "≥") \(target) | \(met ? "met" : "**missed**") |")
    }

    var markdown: String {
        """
        Machine: \(environment). Each phase ran \(seconds) s on loopback.

        | scenario | throughput | p50 ms | p99 ms | p99.9 ms | note |
        |---|---|---|---|---|---|
        \(rows.joined(separator: "\n"))

        | ratio (same run) | value | target | |
        |---|---|---|---|
        \(ratios.joined(separator: "\n"))
        """
    }
}
