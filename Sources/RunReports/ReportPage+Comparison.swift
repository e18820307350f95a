import Foundation
import JSON

/// The tables of monitor warnings and of baseline against final evaluation.
extension ReportPage {
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
}
