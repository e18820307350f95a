import Foundation
import JSON

/// Lays out one run's report: headline figures, charts, warnings, samples, comparison, config.
struct ReportPage {
    let run: RunData
    let maxSampleSteps: Int
    let histogramSteps: Int

    static let train = "#2563eb", val = "#ea580c", baseline = "#6b7280", warn = "#dc2626"
    static let palette = ["#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563"]

    /// Grader names from `rewards/<grader>/mean`, in sorted order.
    var graders: [String] {
        run.metricKeys.compactMap { key in
            if case .rewardMean(let grader)? = StepMetrics.FlatKey(name: key) { return grader }
            return nil
        }
    }

    /// Error types from `grader/errors/<type>`, in sorted order.
    var errorTypes: [String] {
        run.metricKeys.compactMap { key in
            if case .graderErrors(let type)? = StepMetrics.FlatKey(name: key) { return type }
            return nil
        }
    }

    /// `val/pass_rate` and `val/pass@<k>`.
    static func isValidationPassKey(_ key: String) -> Bool {
        if case .valPassAtK? = StepMetrics.FlatKey(name: key) { return true }
        return key == StepMetrics.CodingKeys.valPassRate.rawValue
    }

    var baselineValReward: Double? {
        run.summary?["baseline_val_reward"]?.numericValue ?? Self.meanReward(run.baseline)
    }

    var finalValReward: Double? {
        run.summary?["final_val_reward"]?.numericValue ?? Self.meanReward(run.finalEval) ?? run.series(.valReward).last?.y
    }

    /// Held-out test splits from summary.json (`test_splits`): name, baseline and final reward, and
    /// one standard error of each.
    var testSplits: [(name: String, baseline: Double?, final: Double?, baselineSE: Double?, finalSE: Double?)] {
        (run.summary?["test_splits"]?.arrayValue ?? []).compactMap(\.stringValue).map { n in
            let v = { (k: String) in self.run.summary?["\(n)_\(k)"]?.numericValue }
            return (n, v("baseline_reward"), v("final_reward"), v("baseline_stderr"), v("final_stderr"))
        }
    }

    static func meanReward(_ eval: JSONValue?) -> Double? {
        guard let eval else { return nil }
        for key in ["mean_reward", "val_reward", "reward", "mean", "mean_val_reward"] {
            if let d = eval[key]?.numericValue { return d }
        }
        return nil
    }

    /// Warning markers, one per step that has warnings, numbered in order.
    var markers: [StepMarker] {
        var out: [StepMarker] = []
        var n = 0
        for m in run.metrics where !m.warnings.isEmpty {
            let numbers = m.warnings.map { _ -> String in n += 1; return "\(n)" }
            let tip = m.warnings.map { "step \(m.step) \($0.kind): \($0.message)" }.joined(separator: "\n")
            out.append(StepMarker(x: Double(m.step), label: "⚠" + numbers.joined(separator: ","), tooltip: tip))
        }
        return out
    }

    func render() -> String {
        let name = run.directory.lastPathComponent
        var body = header(name: name)
        body += section("Reward", id: "reward", cards: [rewardChart(), distributionChart()],
                        note: "Train reward is the batch mean (band: ± one standard deviation across samples). "
                            + "Validation reward is measured every eval interval; the dashed grey line is the baseline before training. "
                            + "Red ⚠ lines mark the steps where the monitor raised a warning.")
        body += section("Per-grader rewards", id: "graders", cards: [graderChart(), zeroStdChart()])
        body += section("Policy", id: "policy", cards: [
            simpleChart("KL divergence to the reference", key: .kl, color: Self.palette[2]),
            simpleChart("Entropy", key: .entropy, color: Self.palette[1]),
            lengthChart(), clipChart(),
        ])
        body += section("Graders", id: "latency", cards: [latencyChart(), errorsChart(), errorTotalsChart()])
        body += section("Optimisation and throughput", id: "throughput", cards: [
            simpleChart("Gradient norm", key: .gradNorm, color: Self.palette[4]),
            simpleChart("Learning rate", key: .learningRate, color: Self.palette[5]),
            simpleChart("Tokens per second", key: .tokensPerS, color: Self.palette[0]),
            stepTimeChart(),
        ])
        body += warningsSection()
        body += comparisonSection()
        body += samplesSection()
        body += keyValueSection("Configuration", id: "config", value: run.config, missing: "config.json is missing.")
        body += keyValueSection("Run summary", id: "summary", value: run.summary, missing: "summary.json is missing (the run may still be going).")
        body += problemsSection()
        return Self.document(title: "rft report · \(name)", body: body)
    }

    // MARK: Layout

    func section(_ title: String, id: String, cards: [String], note: String? = nil) -> String {
        var s = "<section id=\"\(id)\"><h2>\(HTMLText.escape(title))</h2>"
        if let note { s += "<p class=\"muted\">\(HTMLText.escape(note))</p>" }
        s += "<div class=\"grid\">"
        for c in cards { s += "<figure>\(c)</figure>" }
        return s + "</div></section>"
    }

    /// Up to `count` items spread evenly over `items`, always keeping the first and last.
    static func spread<T>(_ items: [T], count: Int) -> [T] {
        guard items.count > count, count > 1 else { return Array(items.prefix(max(count, 0))) }
        var picked: [Int] = []
        for i in 0..<count {
            let idx = Int((Double(i) * Double(items.count - 1) / Double(count - 1)).rounded())
            if picked.last != idx { picked.append(idx) }
        }
        return picked.map { items[$0] }
    }
}
