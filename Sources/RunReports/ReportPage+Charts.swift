import Foundation
import JSON

/// The charts: reward, distribution, per-grader, policy, graders and throughput.
extension ReportPage {
    func rewardChart() -> String {
        let reward = run.series(.reward)
        // Rewards that all lie in [0, 1] keep the ± std band inside [0, 1]: a band below 0 would
        // suggest rewards that cannot happen.
        let unitRange = reward.allSatisfy { (0...1).contains($0.y) }
            && run.samples.allSatisfy { $0.reward.map { !$0.isFinite || (0...1).contains($0) } ?? true }
        let band: [(x: Double, low: Double, high: Double)] = run.metrics.compactMap { m in
            guard let r = m[.reward], let sd = m[.rewardStd], r.isFinite, sd.isFinite else { return nil }
            return unitRange ? (Double(m.step), max(0, r - sd), min(1, r + sd)) : (Double(m.step), r - sd, r + sd)
        }
        var series = [ChartSeries(name: "train reward", points: reward, color: Self.train, band: band)]
        for (i, key) in run.metricKeys.filter(Self.isValidationPassKey).enumerated() {
            series.append(ChartSeries(name: "val " + key.dropFirst(4), points: run.series(key),
                                      color: Self.palette[(i + 2) % Self.palette.count], dashed: true, dots: true))
        }
        // Validation reward last, so it is drawn on top (a pass rate can coincide with it).
        series.append(ChartSeries(name: "val reward", points: run.series(.valReward), color: Self.val, dots: true))
        let refs = baselineValReward.flatMap { $0.isFinite ? [ReferenceLine(y: $0, label: "baseline", color: Self.baseline)] : nil } ?? []
        return LineChart(title: "Reward over steps", series: series, references: refs, markers: markers, height: 300).svg()
    }

    func distributionChart() -> String {
        let byStep = Dictionary(grouping: run.samples.filter { $0.reward?.isFinite == true }, by: \.step)
        let steps = Self.spread(byStep.keys.sorted(), count: histogramSteps)
        var panels: [HistogramPanel] = []
        if let b = Self.evalDistribution(run.baseline) { panels.append(HistogramPanel(label: "baseline (val)", values: b, mean: Self.meanReward(run.baseline))) }
        panels += steps.map { HistogramPanel(label: "step \($0)", values: byStep[$0]!.compactMap(\.reward)) }
        if let f = Self.evalDistribution(run.finalEval) { panels.append(HistogramPanel(label: "final (val)", values: f, mean: Self.meanReward(run.finalEval))) }
        return HistogramChart(title: "Reward distribution over time (train samples; validation before and after)", panels: panels).svg()
    }

    /// The rewards of an eval file: a `rewards` list, or the trainer's `histogram` of
    /// `{lower, upper, count}` bins (expanded to bin midpoints).
    static func evalDistribution(_ eval: JSONValue?) -> [Double]? {
        for key in ["rewards", "scores"] {
            if let a = eval?[key]?.arrayValue {
                let d = a.compactMap { $0.numericValue ?? $0["reward"]?.numericValue }
                if !d.isEmpty { return d }
            }
        }
        guard let bins = eval?["histogram"]?.arrayValue else { return nil }
        var values: [Double] = []
        for bin in bins {
            guard let lo = bin["lower"]?.numericValue, let hi = bin["upper"]?.numericValue, let n = bin["count"]?.numericValue,
                  lo.isFinite, hi.isFinite, n > 0, n < 1e7 else { continue }
            values += [Double](repeating: (lo + hi) / 2, count: Int(n))
        }
        return values.isEmpty ? nil : values
    }

    func graderChart() -> String {
        let series = graders.enumerated().map { i, g in
            ChartSeries(name: g, points: run.series(.rewardMean(grader: g)), color: Self.palette[i % Self.palette.count])
        }
        return LineChart(title: "Per-grader reward (mean)", series: series, markers: markers).svg()
    }

    func zeroStdChart() -> String {
        LineChart(title: "Groups with no learning signal (frac_reward_zero_std)",
                  series: [ChartSeries(name: "fraction", points: run.series(.fracRewardZeroStd), color: Self.palette[7])],
                  markers: markers).svg()
    }

    func simpleChart(_ title: String, key: StepMetrics.CodingKeys, color: String) -> String {
        LineChart(title: title, series: [ChartSeries(name: key.rawValue, points: run.series(key), color: color)], markers: markers).svg()
    }

    func lengthChart() -> String {
        let band: [(x: Double, low: Double, high: Double)] = run.metrics.compactMap { m in
            guard let lo = m[.completionsMinLength], let hi = m[.completionsMaxLength],
                  lo.isFinite, hi.isFinite else { return nil }
            return (Double(m.step), lo, hi)
        }
        return LineChart(title: "Completion length (tokens; band: min..max)",
                         series: [ChartSeries(name: "mean length", points: run.series(.completionsMeanLength),
                                              color: Self.palette[3], band: band)], markers: markers).svg()
    }

    func clipChart() -> String {
        let keys: [(String, StepMetrics.CodingKeys)] = [("clipped (truncated) completions", .completionsClippedRatio),
                                                      ("ratio clipped low", .clipRatioLowMean), ("ratio clipped high", .clipRatioHighMean)]
        let series = keys.enumerated().map { i, k in ChartSeries(name: k.0, points: run.series(k.1), color: Self.palette[(i + 4) % 8]) }
        return LineChart(title: "Clipping", series: series, markers: markers).svg()
    }

    /// Step time, with its parts when the trainer logs `timing/<part>` (sampling, update, grading wait).
    func stepTimeChart() -> String {
        var series = [ChartSeries(name: "step", points: run.series(.stepTime), color: Self.palette[7])]
        let logged = Set(run.metricKeys)
        for (i, key) in StepMetrics.CodingKeys.timings.filter({ logged.contains($0.rawValue) }).enumerated() {
            let name = (key.rawValue.split(separator: "/").last.map(String.init) ?? key.rawValue).replacingOccurrences(of: "_s", with: "")
            series.append(ChartSeries(name: name, points: run.series(key), color: Self.palette[i % 7], dashed: true))
        }
        return LineChart(title: "Step time (s)", series: series, markers: markers).svg()
    }

    func latencyChart() -> String {
        LineChart(title: "Grader latency (ms)", series: [
            ChartSeries(name: "mean", points: run.series(.graderLatencyMsMean), color: Self.palette[0]),
            ChartSeries(name: "p99", points: run.series(.graderLatencyMsP99), color: Self.palette[3], dashed: true),
        ], markers: markers).svg()
    }

    func errorsChart() -> String {
        let series = errorTypes.enumerated().map { i, t in
            ChartSeries(name: t, points: run.series(.graderErrors(type: t)), color: Self.palette[(i + 3) % Self.palette.count])
        }
        return LineChart(title: "Grader errors per step, by type", series: series, markers: markers).svg()
    }

    func errorTotalsChart() -> String {
        let totals = errorTypes.map { t in (t, run.series(.graderErrors(type: t)).reduce(0) { $0 + $1.y }) }
        var bars = totals
        let sampleErrors = Dictionary(grouping: run.samples.compactMap { $0.error.map(Self.errorKind) }, by: { $0 })
        if bars.allSatisfy({ $0.1 == 0 }) { bars = sampleErrors.map { ($0.key, Double($0.value.count)) }.sorted { $0.0 < $1.0 } }
        return BarChart(title: "Grader errors, total by type", bars: bars.map { (label: $0.0, value: $0.1) }).svg()
    }

    static func errorKind(_ text: String) -> String {
        String(text.split(separator: ":", maxSplits: 1).first ?? "error").trimmingCharacters(in: .whitespaces)
    }
}
