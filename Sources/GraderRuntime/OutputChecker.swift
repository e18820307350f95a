import Foundation
import JSON

/// Checks a grader's output against the Bedrock batch contract, sample by sample.
///
/// Each input id must appear exactly once with a finite `aggregate_reward_score` (inside `score_range`
/// when the manifest sets one). A sample that fails gets its own `invalid_output` error naming the
/// problem; the rest of the batch keeps its scores.
public struct OutputChecker: Sendable {
    public var scoreRange: ClosedRange<Double>?

    public init(scoreRange: ClosedRange<Double>? = nil) { self.scoreRange = scoreRange }

    /// Checks raw output bytes (what an exec grader printed, or the bootstrap's result list).
    public func check(output bytes: [UInt8], ids: [String]) -> [SampleResult] {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return ids.map { .failed($0, .invalidOutput, "the grader produced no output (expected a JSON list)") }
        }
        do {
            return check(try JSONValue.parse(bytes, allowNonFinite: true), ids: ids)
        } catch {
            let head = String(decoding: bytes.prefix(80), as: UTF8.self).replacingOccurrences(of: "\n", with: "\\n")
            return ids.map { .failed($0, .invalidOutput, "output is not valid JSON (\(error)); it starts with \"\(head)\"") }
        }
    }

    /// Checks a parsed output list. Results come back in the order of `ids`.
    public func check(_ output: JSONValue, ids: [String]) -> [SampleResult] {
        guard let entries = output.arrayValue else {
            return ids.map {
                .failed($0, .invalidOutput, "output must be a JSON list of {\"id\", \"aggregate_reward_score\"} objects, got \(output.typeName)")
            }
        }
        // Fast path: the entries answer the ids in order (what every well-behaved grader does).
        if entries.count == ids.count {
            var inOrder: [SampleResult] = []
            inOrder.reserveCapacity(ids.count)
            for (entry, id) in zip(entries, ids) {
                guard let o = entry.objectValue, o["id"]?.stringValue == id else { break }
                inOrder.append(self.entry(o, id: id))
            }
            if inOrder.count == ids.count { return inOrder }
        }
        let wanted = Set(ids)
        var found: [String: [JSONObject]] = [:]
        var unexpected: [String] = []
        var malformed = 0
        for entry in entries {
            guard let o = entry.objectValue else { malformed += 1; continue }
            let id: String
            switch o["id"] {
            case .string(let s)?: id = s
            case .number(let d)?: id = JSONValue.number(d).jsonString
            default: malformed += 1; continue
            }
            if wanted.contains(id) { found[id, default: []].append(o) } else { unexpected.append(id) }
        }
        var missingNote = ""
        if !unexpected.isEmpty {
            missingNote += "; the output had unexpected ids " + unexpected.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ")
            if unexpected.count > 3 { missingNote += " and \(unexpected.count - 3) more" }
        }
        if malformed > 0 { missingNote += "; \(malformed) output entries were not objects with an \"id\"" }
        return ids.map { id in
            guard let matches = found[id] else {
                return .failed(id, .invalidOutput, "id \"\(id)\" is missing from the output\(missingNote)")
            }
            if matches.count > 1 {
                return .failed(id, .invalidOutput, "id \"\(id)\" appears \(matches.count) times in the output")
            }
            return entry(matches[0], id: id)
        }
    }

    private func entry(_ o: JSONObject, id: String) -> SampleResult {
        if let err = o["error"], !err.isNull {
            // A per-sample error reported by the handler (or by rft's bootstrap on its behalf).
            let msg = err["message"]?.stringValue ?? err["errorMessage"]?.stringValue ?? err.jsonString
            let type: GraderErrorType = err["type"]?.stringValue == "invalid_output" ? .invalidOutput : .handlerError
            return .failed(id, type, msg)
        }
        var metrics: [Metric] = []
        if let list = o["metrics_list"], !list.isNull {
            guard let items = list.arrayValue else {
                return .failed(id, .invalidOutput, "metrics_list must be a list, got \(list.typeName)")
            }
            for (i, item) in items.enumerated() {
                guard let name = item["name"]?.stringValue else {
                    return .failed(id, .invalidOutput, "metrics_list[\(i)].name must be a string")
                }
                guard let value = item["value"]?.doubleValue, value.isFinite else {
                    return .failed(id, .invalidOutput, "metrics_list[\(i)].value (\(name)) must be a finite number, got \(item["value"].map(describe) ?? "nothing")")
                }
                metrics.append(Metric(name: name, value: value, type: item["type"]?.stringValue ?? "Metric"))
            }
        }
        guard let raw = o["aggregate_reward_score"] else {
            return .failed(id, .invalidOutput, "aggregate_reward_score is missing")
        }
        switch raw {
        case .null:
            return SampleResult(id: id, outcome: .abstained, metrics: metrics)
        case .number(let s):
            guard s.isFinite else { return .failed(id, .invalidOutput, "aggregate_reward_score is \(describe(raw)), not a finite number") }
            if let r = scoreRange, !r.contains(s) {
                return .failed(id, .invalidOutput, "aggregate_reward_score \(s) is outside score_range [\(r.lowerBound), \(r.upperBound)]")
            }
            return SampleResult(id: id, outcome: .scored(s), metrics: metrics)
        default:
            return .failed(id, .invalidOutput, "aggregate_reward_score must be a number, got \(raw.typeName) \(String(raw.jsonString.prefix(40)))")
        }
    }

    private func describe(_ v: JSONValue) -> String {
        if case .number(let d) = v, !d.isFinite { return d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity") }
        return String(v.jsonString.prefix(40))
    }
}
