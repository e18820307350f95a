import Foundation
import JSON

/// The header: status, headline figures, the grader-error banner and the section links.
extension ReportPage {
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
        let lastTrain = run.series(.reward).last?.y
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
            for t in errorTypes { rows.append((t, run.series(.graderErrors(type: t)).reduce(0) { $0 + $1.y }, [])) }
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
}
