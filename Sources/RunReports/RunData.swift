import Foundation
import JSON

/// Everything a report shows, loaded from a run directory:
/// `metrics.jsonl`, `samples.jsonl`, `summary.json`, `config.json`, `baseline.json`, `final_eval.json`.
///
/// Loading never fails on content: missing files, bad lines (including a half-written last line of a
/// run that is still writing), non-numeric values and NaN are tolerated and listed in `problems`.
public struct RunData: Sendable {
    public var directory: URL
    /// One entry per step, sorted by step; a step logged twice (a resumed run) keeps its last record.
    public var metrics: [LoggedStep]
    public var samples: [RunSample]
    public var summary: JSONValue?
    public var config: JSONValue?
    public var baseline: JSONValue?
    public var finalEval: JSONValue?
    /// What could not be read, as `file:line: reason`.
    public var problems: [String]

    /// Loads a run directory.
    /// - Throws: `RunDataError.notADirectory` when `runDirectory` does not exist.
    public init(runDirectory: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory.path, isDirectory: &isDir), isDir.boolValue else {
            throw RunDataError.notADirectory(path: runDirectory.path)
        }
        directory = runDirectory
        problems = []
        metrics = []
        samples = []

        var byStep: [Int: LoggedStep] = [:]
        for (line, value) in readJSONLines("metrics.jsonl") {
            guard let step = value[StepMetrics.CodingKeys.step.rawValue]?.intValue else {
                problems.append("metrics.jsonl:\(line): no whole-number \"step\" (skipped)")
                continue
            }
            byStep[step] = LoggedStep(step: step, json: value)
        }
        metrics = byStep.keys.sorted().map { byStep[$0]! }
        var keys = Set<String>()
        for m in metrics { keys.formUnion(m.values.keys) }
        metricKeys = keys.sorted()

        for (line, value) in readJSONLines("samples.jsonl") {
            guard let sample = RunSample(json: value) else {
                problems.append("samples.jsonl:\(line): not a sample object (skipped)")
                continue
            }
            samples.append(sample)
        }
        summary = readJSON("summary.json")
        config = readJSON("config.json")
        baseline = readJSON("baseline.json")
        finalEval = readJSON("final_eval.json")
    }

    /// The values of metric `key` over steps, skipping steps where it is absent or not finite.
    public func series(_ key: String) -> [(x: Double, y: Double)] {
        metrics.compactMap { m in m.values[key].flatMap { $0.isFinite ? (Double(m.step), $0) : nil } }
    }

    /// The values of one of the trainer's metrics over steps (see `series(_:)` by name).
    public func series(_ key: StepMetrics.CodingKeys) -> [(x: Double, y: Double)] { series(key.rawValue) }

    /// The values of a metric named after a grader, error type or k over steps.
    public func series(_ key: StepMetrics.FlatKey) -> [(x: Double, y: Double)] { series(key.name) }

    /// Every metric key present in any step, sorted.
    public private(set) var metricKeys: [String] = []

    /// All monitor warnings, in step order.
    public var warnings: [RunWarning] { metrics.flatMap(\.warnings) }

    private mutating func readJSONLines(_ name: String) -> [(line: Int, value: JSONValue)] {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        guard let data = try? Data(contentsOf: url) else {
            problems.append("\(name): cannot be read")
            return []
        }
        // Split and trim on bytes: String's Character-level split is far slower on large logs.
        let bytes = [UInt8](data)
        var out: [(Int, JSONValue)] = []
        var lineNumber = 0, start = 0
        while start < bytes.count {
            lineNumber += 1
            let newline = bytes[start...].firstIndex(of: 0x0A)
            let end = newline ?? bytes.count
            var lo = start, hi = end
            while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 || bytes[lo] == 0x0D { lo += 1 }
            while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 || bytes[hi - 1] == 0x0D { hi -= 1 }
            if lo < hi {
                do {
                    out.append((lineNumber, try JSONValue.parse(bytes[lo..<hi], allowNonFinite: true)))
                } catch {
                    let note = newline == nil ? " (half-written last line)" : ""  // no newline yet: still being written
                    problems.append("\(name):\(lineNumber): \(error)\(note) (skipped)")
                }
            }
            start = end + 1
        }
        return out
    }

    private mutating func readJSON(_ name: String) -> JSONValue? {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONValue.parse(try Data(contentsOf: url), allowNonFinite: true)
        } catch {
            problems.append("\(name): \(error)")
            return nil
        }
    }
}

/// One step of `metrics.jsonl` as the report reads it: every numeric value by name (whatever wrote
/// the file) and the monitor's warnings. The trainer's names are `StepMetrics.CodingKeys`.
public struct LoggedStep: Sendable {
    public var step: Int
    /// Numeric metrics by name (`reward`, `rewards/<grader>/mean`, `val/reward`, ...); NaN is kept.
    public var values: [String: Double]
    public var warnings: [RunWarning]

    public init(step: Int, values: [String: Double], warnings: [RunWarning] = []) {
        self.step = step
        self.values = values
        self.warnings = warnings
    }

    /// One of the trainer's metrics at this step (nil when absent).
    public subscript(key: StepMetrics.CodingKeys) -> Double? { values[key.rawValue] }

    init(step: Int, json: JSONValue) {
        self.step = step
        values = [:]
        warnings = []
        for (key, value) in json.objectValue ?? [:] {
            if key == StepMetrics.CodingKeys.warnings.rawValue {
                warnings = (value.arrayValue ?? []).map { w in
                    RunWarning(step: step, kind: w["kind"]?.stringValue ?? "warning",
                               message: w["message"]?.stringValue ?? w.stringValue ?? w.reportText)
                }
            } else if case .number(let d) = value {
                values[key] = d
            } else if case .string(let s) = value, let d = Double(s) {
                values[key] = d
            }
        }
    }
}

/// A warning the trainer's monitor raised at a step.
public struct RunWarning: Sendable, Equatable {
    public var step: Int
    public var kind: String
    public var message: String
}

/// One logged completion with its scores.
public struct RunSample: Sendable {
    public var step: Int
    public var promptID: String
    public var prompt: String
    public var completion: String
    /// The aggregate reward, nil when absent or not a number.
    public var reward: Double?
    /// Per-grader scores in file order.
    public var rewards: [(grader: String, value: Double?)]
    /// The grader error, summarised as text; nil when the sample scored cleanly.
    public var error: String?
    /// The completion hit the maximum length.
    public var truncated: Bool

    init?(json: JSONValue) {
        guard json.objectValue != nil else { return nil }
        step = json["step"]?.intValue ?? 0
        switch json["prompt_id"] {
        case .string(let s)?: promptID = s
        case let v?: promptID = v.reportText
        case nil: promptID = ""
        }
        prompt = Self.text(json["prompt"])
        completion = Self.text(json["completion"])
        reward = json["reward"]?.numericValue
        rewards = (json["rewards"]?.objectValue ?? [:]).map { ($0.key, $0.value.numericValue) }
        truncated = json["truncated"] == .bool(true)
        switch json["error"] {
        case nil, .null?: error = nil
        case .string(let s)?: error = s
        case let v?:
            if let type = v["type"]?.stringValue ?? v["kind"]?.stringValue {
                error = [type, v["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            } else {
                error = v.reportText
            }
        }
    }

    /// Text of a string field; chat messages are joined as `role: content`.
    private static func text(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: return s
        case .array(let items)?:
            return items.map { m in
                if let content = m["content"]?.stringValue { return (m["role"]?.stringValue.map { "\($0): " } ?? "") + content }
                return m.stringValue ?? m.reportText
            }.joined(separator: "\n")
        case nil, .null?: return ""
        case let other?: return other.reportText
        }
    }
}

/// A run directory that cannot be loaded at all.
public enum RunDataError: Error, CustomStringConvertible {
    case notADirectory(path: String)
    public var description: String {
        switch self {
        case .notADirectory(let path): return "\(path): not a run directory (it does not exist or is not a directory)"
        }
    }
}
