import Foundation
import JSON

/// The sample table, the configuration and summary tables, and read problems.
extension ReportPage {
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
}
