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
            guard key.hasPrefix("rewards/"), key.hasSuffix("/mean") else { return nil }
            return String(key.dropFirst("rewards/".count).dropLast("/mean".count))
        }
    }

    var errorTypes: [String] {
        run.metricKeys.filter { $0.hasPrefix("grader/errors/") }.map { String($0.dropFirst("grader/errors/".count)) }
    }

    var baselineValReward: Double? {
        run.summary?["baseline_val_reward"]?.numericValue ?? Self.meanReward(run.baseline)
    }

    var finalValReward: Double? {
        run.summary?["final_val_reward"]?.numericValue ?? Self.meanReward(run.finalEval) ?? run.series("val/reward").last?.y
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
            simpleChart("KL divergence to the reference", key: "kl", color: Self.palette[2]),
            simpleChart("Entropy", key: "entropy", color: Self.palette[1]),
            lengthChart(), clipChart(),
        ])
        body += section("Graders", id: "latency", cards: [latencyChart(), errorsChart(), errorTotalsChart()])
        body += section("Optimisation and throughput", id: "throughput", cards: [
            simpleChart("Gradient norm", key: "grad_norm", color: Self.palette[4]),
            simpleChart("Learning rate", key: "learning_rate", color: Self.palette[5]),
            simpleChart("Tokens per second", key: "tokens_per_s", color: Self.palette[0]),
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

    // MARK: Header

    func header(name: String) -> String {
        let status = run.summary?["status"]?.stringValue ?? (run.metrics.isEmpty ? "no steps yet" : "InProgress")
        var steps = (run.summary?["steps"]?.intValue ?? run.metrics.last?.step).map(String.init) ?? "—"
        if let total = run.summary?["total_steps"]?.intValue, total > 0 { steps += " / \(total)" }
        let base = baselineValReward, final = finalValReward
        var headline = "No validation reward yet."
        if let base, let final, base.isFinite, final.isFinite {
            let ratio = base > 0 ? String(format: " (%.2f× the baseline)", final / base) : ""
            headline = "Validation reward \(HTMLText.number(base)) → \(HTMLText.number(final))\(ratio)"
        } else if let final {
            headline = "Validation reward \(HTMLText.number(final)) (no baseline recorded)"
        }
        for t in testSplits {
            guard let b = t.baseline, let f = t.final, b.isFinite, f.isFinite else { continue }
            let ratio = b > 0 ? String(format: " (%.2f×)", f / b) : ""
            headline += " · held-out \(t.name) \(HTMLText.number(b)) → \(HTMLText.number(f))\(ratio)"
        }
        let best: String = {
            switch run.summary?["best_checkpoint"] {
            case .string(let s)?: return s
            case nil, .null?: return "—"
            case let v?: return v["path"]?.stringValue ?? v.reportText
            }
        }()
        let lastTrain = run.series("reward").last?.y
        let stats: [(String, String)] = [
            ("Status", status),
            ("Steps", steps),
            ("Baseline val reward", HTMLText.number(base)),
            ("Final val reward", HTMLText.number(final)),
            ("Last train reward", HTMLText.number(lastTrain)),
            ("Warnings", "\(run.warnings.count)"),
            ("Best checkpoint", best),
        ]
        var s = "<header><h1>\(HTMLText.escape(name))</h1>"
        s += graderErrorBanner()
        s += "<p class=\"headline\">\(HTMLText.escape(headline))</p>"
        s += "<p class=\"path\">\(HTMLText.escape(run.directory.path))</p>"
        if let error = run.summary?["error"]?.stringValue, !error.isEmpty {
            s += "<p class=\"banner\">The run stopped with an error: \(HTMLText.escape(error))</p>"
        }
        s += "<dl class=\"stats\">"
        for (k, v) in stats { s += "<div><dt>\(HTMLText.escape(k))</dt><dd>\(HTMLText.escape(v))</dd></div>" }
        s += "</dl><nav>"
        for (id, title) in [("reward", "Reward"), ("graders", "Graders"), ("policy", "Policy"), ("latency", "Latency & errors"),
                            ("warnings", "Warnings"), ("comparison", "Baseline vs final"), ("samples", "Samples"), ("config", "Config")] {
            s += "<a href=\"#\(id)\">\(title)</a>"
        }
        return s + "</nav></header>"
    }

    /// A red banner at the top when any sample failed grading: counts by type and example messages,
    /// from `summary.json`'s `grader_errors`, else from the `grader/errors/<type>` metrics.
    func graderErrorBanner() -> String {
        var rows: [(type: String, count: Double, examples: [String])] = []
        if let members = run.summary?["grader_errors"]?.objectValue {
            for (type, entry) in members {
                rows.append((type, entry["count"]?.numericValue ?? 0, (entry["examples"]?.arrayValue ?? []).compactMap(\.stringValue)))
            }
        } else {
            for t in errorTypes { rows.append((t, run.series("grader/errors/\(t)").reduce(0) { $0 + $1.y }, [])) }
        }
        rows = rows.filter { $0.count > 0 }.sorted { ($0.count, $1.type) > ($1.count, $0.type) }
        guard !rows.isEmpty else { return "" }
        let total = rows.reduce(0) { $0 + $1.count }
        var s = "<div class=\"banner errors\"><strong>Grading failed on \(HTMLText.number(total)) samples: "
        s += HTMLText.escape(rows.map { "\($0.type) ×\(HTMLText.number($0.count))" }.joined(separator: ", ")) + "</strong>"
        s += " (training steps and the baseline; see the Graders section and the samples below)"
        let examples = rows.flatMap { r in r.examples.prefix(2).map { (r.type, $0) } }
        if !examples.isEmpty {
            s += "<ul>"
            for (type, message) in examples.prefix(6) {
                let text = message.count > 600 ? String(message.prefix(600)) + "…" : message
                s += "<li><code>\(HTMLText.escape(type))</code> <pre>\(HTMLText.escape(text))</pre></li>"
            }
            s += "</ul>"
        }
        return s + "</div>"
    }

    // MARK: Charts

    func rewardChart() -> String {
        let reward = run.series("reward")
        // Rewards that all lie in [0, 1] keep the ± std band inside [0, 1]: a band below 0 would
        // suggest rewards that cannot happen.
        let unitRange = reward.allSatisfy { (0...1).contains($0.y) }
            && run.samples.allSatisfy { $0.reward.map { !$0.isFinite || (0...1).contains($0) } ?? true }
        let band: [(x: Double, low: Double, high: Double)] = run.metrics.compactMap { m in
            guard let r = m.values["reward"], let sd = m.values["reward_std"], r.isFinite, sd.isFinite else { return nil }
            return unitRange ? (Double(m.step), max(0, r - sd), min(1, r + sd)) : (Double(m.step), r - sd, r + sd)
        }
        var series = [ChartSeries(name: "train reward", points: reward, color: Self.train, band: band)]
        for (i, key) in run.metricKeys.filter({ $0.hasPrefix("val/pass") }).enumerated() {
            series.append(ChartSeries(name: "val " + key.dropFirst(4), points: run.series(key),
                                      color: Self.palette[(i + 2) % Self.palette.count], dashed: true, dots: true))
        }
        // Validation reward last, so it is drawn on top (a pass rate can coincide with it).
        series.append(ChartSeries(name: "val reward", points: run.series("val/reward"), color: Self.val, dots: true))
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
            ChartSeries(name: g, points: run.series("rewards/\(g)/mean"), color: Self.palette[i % Self.palette.count])
        }
        return LineChart(title: "Per-grader reward (mean)", series: series, markers: markers).svg()
    }

    func zeroStdChart() -> String {
        LineChart(title: "Groups with no learning signal (frac_reward_zero_std)",
                  series: [ChartSeries(name: "fraction", points: run.series("frac_reward_zero_std"), color: Self.palette[7])],
                  markers: markers).svg()
    }

    func simpleChart(_ title: String, key: String, color: String) -> String {
        LineChart(title: title, series: [ChartSeries(name: key, points: run.series(key), color: color)], markers: markers).svg()
    }

    func lengthChart() -> String {
        let band: [(x: Double, low: Double, high: Double)] = run.metrics.compactMap { m in
            guard let lo = m.values["completions/min_length"], let hi = m.values["completions/max_length"],
                  lo.isFinite, hi.isFinite else { return nil }
            return (Double(m.step), lo, hi)
        }
        return LineChart(title: "Completion length (tokens; band: min..max)",
                         series: [ChartSeries(name: "mean length", points: run.series("completions/mean_length"),
                                              color: Self.palette[3], band: band)], markers: markers).svg()
    }

    func clipChart() -> String {
        let keys = [("clipped (truncated) completions", "completions/clipped_ratio"), ("ratio clipped low", "clip_ratio/low_mean"),
                    ("ratio clipped high", "clip_ratio/high_mean")]
        let series = keys.enumerated().map { i, k in ChartSeries(name: k.0, points: run.series(k.1), color: Self.palette[(i + 4) % 8]) }
        return LineChart(title: "Clipping", series: series, markers: markers).svg()
    }

    /// Step time, with its parts when the trainer logs `timing/<part>` (sampling, update, grading wait).
    func stepTimeChart() -> String {
        var series = [ChartSeries(name: "step", points: run.series("step_time"), color: Self.palette[7])]
        for (i, key) in run.metricKeys.filter({ $0.hasPrefix("timing/") }).enumerated() {
            let name = String(key.dropFirst("timing/".count)).replacingOccurrences(of: "_s", with: "")
            series.append(ChartSeries(name: name, points: run.series(key), color: Self.palette[i % 7], dashed: true))
        }
        return LineChart(title: "Step time (s)", series: series, markers: markers).svg()
    }

    func latencyChart() -> String {
        LineChart(title: "Grader latency (ms)", series: [
            ChartSeries(name: "mean", points: run.series("grader/latency_ms_mean"), color: Self.palette[0]),
            ChartSeries(name: "p99", points: run.series("grader/latency_ms_p99"), color: Self.palette[3], dashed: true),
        ], markers: markers).svg()
    }

    func errorsChart() -> String {
        let series = errorTypes.enumerated().map { i, t in
            ChartSeries(name: t, points: run.series("grader/errors/\(t)"), color: Self.palette[(i + 3) % Self.palette.count])
        }
        return LineChart(title: "Grader errors per step, by type", series: series, markers: markers).svg()
    }

    func errorTotalsChart() -> String {
        let totals = errorTypes.map { t in (t, run.series("grader/errors/\(t)").reduce(0) { $0 + $1.y }) }
        var bars = totals
        let sampleErrors = Dictionary(grouping: run.samples.compactMap { $0.error.map(Self.errorKind) }, by: { $0 })
        if bars.allSatisfy({ $0.1 == 0 }) { bars = sampleErrors.map { ($0.key, Double($0.value.count)) }.sorted { $0.0 < $1.0 } }
        return BarChart(title: "Grader errors, total by type", bars: bars.map { (label: $0.0, value: $0.1) }).svg()
    }

    static func errorKind(_ text: String) -> String {
        String(text.split(separator: ":", maxSplits: 1).first ?? "error").trimmingCharacters(in: .whitespaces)
    }

    // MARK: Tables

    func warningsSection() -> String {
        let warnings = run.warnings
        var s = "<section id=\"warnings\"><h2>Monitor warnings</h2>"
        guard !warnings.isEmpty else { return s + "<p class=\"muted\">The monitor raised no warnings.</p></section>" }
        s += "<table><thead><tr><th>#</th><th>Step</th><th>Kind</th><th>Message</th></tr></thead><tbody>"
        for (i, w) in warnings.enumerated() {
            s += "<tr><td class=\"warn\">⚠\(i + 1)</td><td>\(w.step)</td><td><code>\(HTMLText.escape(w.kind))</code></td><td>\(HTMLText.escape(w.message))</td></tr>"
        }
        return s + "</tbody></table></section>"
    }

    func comparisonSection() -> String {
        var rows: [(String, Double?, Double?)] = [("validation reward", baselineValReward, finalValReward)]
        for t in testSplits {
            let se = (t.baselineSE ?? t.finalSE).map { String(format: ", ±%.3f", $0) } ?? ""
            rows.append(("\(t.name) reward (held out\(se))", t.baseline, t.final))
        }
        let base = Self.numericLeaves(run.baseline), final = Self.numericLeaves(run.finalEval)
        let finalMap = Dictionary(final, uniquingKeysWith: { a, _ in a })
        // Outcome figures only: settings of the evaluation (prompt count, threshold, k) are not results,
        // and an unchanged count of errors or abstentions says nothing.
        let settings: Set = ["mean_reward", "val_reward", "reward", "mean", "prompts", "samples", "pass_threshold", "k"]
        let headline = ["pass_rate", "pass_at_k", "reward_std"]
        var others: [(String, Double?, Double?)] = []
        for (key, b) in base where !settings.contains(key) {
            guard let f = finalMap[key], headline.contains(key) || f != b else { continue }
            if headline.contains(key) { rows.append((key, b, f)) } else { others.append((key, b, f)) }
        }
        rows += others
        var s = "<section id=\"comparison\"><h2>Baseline vs final</h2>"
        s += "<table class=\"num\"><thead><tr><th>Metric</th><th>Baseline</th><th>Final</th><th>Change</th><th>Ratio</th></tr></thead><tbody>"
        for (k, b, f) in rows {
            let delta = (b != nil && f != nil) ? f! - b! : nil
            let ratio = (b != nil && f != nil && b! != 0) ? String(format: "%.2f×", f! / b!) : "—"
            let cls = (delta ?? 0) > 0 ? "up" : (delta ?? 0) < 0 ? "down" : ""
            let sign = (delta ?? 0) > 0 ? "+" : ""
            s += "<tr><td>\(HTMLText.escape(k))</td><td>\(HTMLText.number(b))</td><td>\(HTMLText.number(f))</td>"
            s += "<td class=\"\(cls)\">\(delta.map { sign + HTMLText.number($0) } ?? "—")</td><td>\(ratio)</td></tr>"
        }
        s += "</tbody></table>"
        if run.baseline == nil && run.finalEval == nil {
            s += "<p class=\"muted\">baseline.json and final_eval.json are missing; figures come from summary.json and metrics.jsonl.</p>"
        }
        return s + examplesTable() + "</section>"
    }

    /// The same validation prompts answered before and after training (the eval files' `examples`).
    func examplesTable(limit: Int = 12) -> String {
        func examples(_ eval: JSONValue?) -> [(id: String, sample: RunSample)] {
            (eval?["examples"]?.arrayValue ?? []).compactMap { json in
                guard let sample = RunSample(json: json), !sample.promptID.isEmpty else { return nil }
                return (sample.promptID, sample)
            }
        }
        var finalByID: [String: RunSample] = [:]
        for (id, sample) in examples(run.finalEval) where finalByID[id] == nil { finalByID[id] = sample }
        var seen = Set<String>()
        let pairs = examples(run.baseline).compactMap { id, before -> (RunSample, RunSample)? in
            guard seen.insert(id).inserted, let after = finalByID[id] else { return nil }
            return (before, after)
        }.prefix(limit)
        guard !pairs.isEmpty else { return "" }
        var s = "<h3>Same validation prompts, before and after</h3>"
        s += "<table class=\"samples\"><thead><tr><th>Prompt</th><th>Baseline completion</th><th>Reward</th>"
        s += "<th>Final completion</th><th>Reward</th></tr></thead><tbody>"
        for (before, after) in pairs {
            let change = (after.reward ?? 0) - (before.reward ?? 0)
            let cls = change > 0 ? "up" : change < 0 ? "down" : ""
            s += "<tr><td><div class=\"text\">\(HTMLText.escape(Self.clip(before.prompt)))</div></td>"
            s += "<td><div class=\"text\">\(HTMLText.escape(Self.clip(before.completion)))</div></td>"
            s += "<td class=\"score\">\(HTMLText.number(before.reward))</td>"
            s += "<td><div class=\"text\">\(HTMLText.escape(Self.clip(after.completion)))</div></td>"
            s += "<td class=\"score \(cls)\">\(HTMLText.number(after.reward))</td></tr>"
        }
        return s + "</tbody></table>"
    }

    /// Numeric leaves of a JSON object as `a/b/c` paths (arrays skipped), in file order.
    static func numericLeaves(_ v: JSONValue?, prefix: String = "") -> [(String, Double)] {
        guard let members = v?.objectValue else { return [] }
        return members.flatMap { key, value -> [(String, Double)] in
            let path = prefix.isEmpty ? key : prefix + "/" + key
            switch value {
            case .number(let d): return [(path, d)]
            case .object: return numericLeaves(value, prefix: path)
            default: return []
            }
        }
    }

    func samplesSection() -> String {
        var s = "<section id=\"samples\"><h2>Sample completions: best and worst per step</h2>"
        let byStep = Dictionary(grouping: run.samples, by: \.step)
        guard !byStep.isEmpty else { return s + "<p class=\"muted\">No samples logged (samples.jsonl is missing or empty).</p></section>" }
        let steps = Self.spread(byStep.keys.sorted(), count: maxSampleSteps)
        var graderNames: [String] = []
        for sample in run.samples { for (g, _) in sample.rewards where !graderNames.contains(g) { graderNames.append(g) } }
        s += "<p class=\"muted\">\(run.samples.count) samples logged at \(byStep.count) steps; showing \(steps.count) steps.</p>"
        s += "<table class=\"samples\"><thead><tr><th>Step</th><th></th><th>Prompt</th><th>Completion</th><th>Reward</th>"
        for g in graderNames { s += "<th>\(HTMLText.escape(g))</th>" }
        s += "<th>Error</th></tr></thead><tbody>"
        for step in steps.reversed() {
            // Highest reward first; ties keep file order (stable), missing or NaN rewards rank last.
            let ranked = byStep[step]!.enumerated().sorted { a, b in
                let ra = a.element.reward.flatMap { $0.isNaN ? nil : $0 } ?? -.infinity
                let rb = b.element.reward.flatMap { $0.isNaN ? nil : $0 } ?? -.infinity
                return ra != rb ? ra > rb : a.offset < b.offset
            }.map(\.element)
            let picks: [(String, RunSample)] = ranked.count == 1 ? [("only", ranked[0])] : [("best", ranked.first!), ("worst", ranked.last!)]
            for (label, sample) in picks {
                s += "<tr class=\"\(label)\"><td>\(step)</td><td class=\"rank\">\(label)</td>"
                s += "<td><div class=\"text\">\(HTMLText.escape(Self.clip(sample.prompt)))</div></td>"
                s += "<td><div class=\"text\">\(HTMLText.escape(Self.clip(sample.completion)))</div>"
                    + (sample.truncated ? "<span class=\"tag\">truncated at max length</span>" : "") + "</td>"
                s += "<td class=\"score\">\(HTMLText.number(sample.reward))</td>"
                let scores = Dictionary(sample.rewards.map { ($0.grader, $0.value) }, uniquingKeysWith: { a, _ in a })
                for g in graderNames { s += "<td class=\"score\">\(HTMLText.number(scores[g] ?? nil))</td>" }
                s += "<td class=\"err\">\(HTMLText.escape(sample.error ?? ""))</td></tr>"
            }
        }
        return s + "</tbody></table></section>"
    }

    /// Long texts are cut so one runaway completion cannot bloat the report.
    static func clip(_ text: String, limit: Int = 2000) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "… (\(text.count - limit) more characters)"
    }

    /// Config keys whose values are never shown (credentials for endpoints and reward servers).
    static func isSecret(_ path: String) -> Bool {
        let key = (path.split(separator: ".").last.map(String.init) ?? path).lowercased()
        return ["key", "token", "secret", "password", "authorization", "credential"].contains { key.contains($0) }
            && !key.hasSuffix("tokens") && !key.contains("max_") && !key.contains("_len")
    }

    func keyValueSection(_ title: String, id: String, value: JSONValue?, missing: String) -> String {
        var s = "<section id=\"\(id)\"><h2>\(HTMLText.escape(title))</h2>"
        guard let value else { return s + "<p class=\"muted\">\(HTMLText.escape(missing))</p></section>" }
        let rows = Self.flatten(value)
        s += "<table class=\"kv\"><tbody>"
        for (k, v) in rows {
            let shown = Self.isSecret(k) ? "•••• (redacted)" : v
            s += "<tr><th>\(HTMLText.escape(k))</th><td><code>\(HTMLText.escape(shown))</code></td></tr>"
        }
        return s + "</tbody></table></section>"
    }

    /// Key paths and value texts of a JSON document; short arrays of scalars stay on one row.
    static func flatten(_ v: JSONValue, prefix: String = "") -> [(String, String)] {
        switch v {
        case .object(let members) where !members.isEmpty:
            return members.flatMap { flatten($0.value, prefix: prefix.isEmpty ? $0.key : prefix + "." + $0.key) }
        case .array(let items) where items.contains(where: { $0.objectValue != nil }):
            return items.enumerated().flatMap { flatten($1, prefix: "\(prefix)[\($0)]") }
        case .string(let s): return [(prefix.isEmpty ? "value" : prefix, s)]
        default: return [(prefix.isEmpty ? "value" : prefix, v.reportText)]
        }
    }

    func problemsSection() -> String {
        guard !run.problems.isEmpty else { return "" }
        var s = "<section id=\"problems\"><h2>Problems reading the run</h2><ul>"
        for p in run.problems.prefix(50) { s += "<li><code>\(HTMLText.escape(p))</code></li>" }
        if run.problems.count > 50 { s += "<li>… and \(run.problems.count - 50) more</li>" }
        return s + "</ul></section>"
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

    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="rft report">
        <title>\(HTMLText.escape(title))</title>
        <style>\(css)</style></head>
        <body>\(body)
        <footer>Generated by <code>rft report</code>. Self-contained: no scripts, no external files.</footer>
        </body></html>

        """
    }

    static let css = """
    :root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff}
    *{box-sizing:border-box}
    body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
    h1{margin:0;font-size:24px}h3{font-size:15px;margin:18px 0 6px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
    .headline{font-size:20px;font-weight:600;margin:6px 0 2px}.path{color:var(--muted);margin:0 0 12px;font-size:12px}
    .stats{display:flex;flex-wrap:wrap;gap:10px;margin:0}.stats div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px}
    dt{color:var(--muted);font-size:12px}dd{margin:0;font-size:17px;font-weight:600;word-break:break-all}
    nav{margin-top:12px}nav a{margin-right:14px;color:#2563eb;text-decoration:none}
    .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
    figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
    svg.chart{width:100%;height:auto;display:block;font-family:inherit}
    .ct{font-size:13px;font-weight:600;fill:var(--fg)}.tick{font-size:11px;fill:#4b5563}.legend{font-size:11px;fill:#374151}
    .gl{stroke:#eef0f3}.axis{stroke:#9ca3af}
    .line{fill:none;stroke-width:2;stroke-linejoin:round}.raw{fill:none;stroke-width:1;opacity:.25}.band{opacity:.14;stroke:none}
    .ref line{stroke-width:1.5;stroke-dasharray:6 4}
    .marker line{stroke:#dc2626;stroke-width:1.2;stroke-dasharray:3 3}.marker text{fill:#dc2626;font-size:11px;font-weight:700}
    .nodata{font-size:15px;fill:#9ca3af}.mean{stroke:#111827;stroke-width:1.2;stroke-dasharray:3 2}
    .muted{color:var(--muted)}
    table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);width:100%}
    th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
    thead th{background:#f1f5f9;font-size:12px}
    table.num td:not(:first-child),td.score{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    td.up{color:#15803d;font-weight:600}td.down{color:#b91c1c;font-weight:600}
    .samples .text{white-space:pre-wrap;word-break:break-word;max-height:9em;overflow:auto;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
    tr.best .rank{color:#15803d;font-weight:600}tr.worst .rank{color:#b91c1c;font-weight:600}
    td.err{color:#b91c1c;font-size:12px}td.warn{color:#dc2626;font-weight:700}
    table.kv th{width:32%;font-weight:500;color:#374151}code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
    .banner{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;padding:8px 12px;border-radius:8px}
    .banner.errors ul{margin:6px 0 0;padding-left:18px}.banner.errors pre{white-space:pre-wrap;margin:2px 0 6px;font-size:12px}
    .tag{display:inline-block;margin-top:3px;font-size:11px;color:#92400e;background:#fef3c7;border-radius:4px;padding:0 5px}
    footer{margin-top:32px;color:var(--muted);font-size:12px}
    """
}
