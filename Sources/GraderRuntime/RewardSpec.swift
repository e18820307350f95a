import Foundation
import JSON

/// Several graders combined into one reward, each with a weight.
///
/// A reward spec file (`reward.json`):
/// ```json
/// {"graders": [{"path": "graders/math", "weight": 1.0},
///              {"path": "graders/format", "weight": 0.2, "name": "format"}]}
/// ```
/// Paths are relative to the spec file. A weight of 0 keeps a grader as a logged metric only.
public struct RewardSpec: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The component's name in metrics (`rewards/<name>/mean`); defaults to the manifest's name.
        public var name: String
        public var directory: URL
        public var weight: Double
        public init(name: String, directory: URL, weight: Double = 1) {
            self.name = name; self.directory = directory; self.weight = weight
        }
    }

    public var entries: [Entry]

    /// - Throws: ``ManifestError`` (field path inside the spec) for empty lists, duplicate names or non-finite weights.
    public init(entries: [Entry], file: String = "reward spec") throws {
        guard !entries.isEmpty else { throw ManifestError(file: file, field: "graders", message: "must list at least one grader") }
        var seen = Set<String>()
        for (i, e) in entries.enumerated() {
            guard e.weight.isFinite else { throw ManifestError(file: file, field: "graders[\(i)].weight", message: "must be a finite number") }
            guard seen.insert(e.name).inserted else {
                throw ManifestError(file: file, field: "graders[\(i)].name", message: "duplicate grader name \"\(e.name)\"")
            }
        }
        guard entries.contains(where: { $0.weight != 0 }) else {
            throw ManifestError(file: file, field: "graders", message: "at least one weight must be non-zero")
        }
        self.entries = entries
    }

    /// One grader directory with weight 1.
    public init(directory: URL) throws {
        let m = try GraderManifest.load(directory: directory)
        try self.init(entries: [Entry(name: m.name, directory: directory, weight: 1)])
    }

    /// Reads a reward spec file; a directory containing `grader.json` is accepted as a one-grader spec.
    public static func load(_ url: URL) throws -> RewardSpec {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            return try RewardSpec(directory: url)
        }
        let file = GraderManifest.displayPath(url)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ManifestError(file: file, field: "", message: "cannot read the file")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(Array(data)) } catch {
            throw ManifestError(file: file, field: "", message: "invalid JSON at \(error)")
        }
        guard let list = json["graders"]?.arrayValue else {
            throw ManifestError(file: file, field: "graders", message: "must be a list of {\"path\", \"weight\"} objects")
        }
        let base = url.deletingLastPathComponent()
        var entries: [Entry] = []
        for (i, item) in list.enumerated() {
            guard let path = item["path"]?.stringValue else {
                throw ManifestError(file: file, field: "graders[\(i)].path", message: "must be a string (a grader directory)")
            }
            let dir = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
            var weight = 1.0
            if let w = item["weight"] {
                guard let d = w.doubleValue else {
                    throw ManifestError(file: file, field: "graders[\(i)].weight", message: "must be a number, got \(w.typeName)")
                }
                weight = d
            }
            let name = try item["name"]?.stringValue ?? GraderManifest.load(directory: dir).name
            entries.append(Entry(name: name, directory: dir, weight: weight))
        }
        return try RewardSpec(entries: entries, file: file)
    }
}

/// The reward of one sample: what clients see (``output``), with every grader's component kept for
/// per-grader curves.
public struct RewardResult: Sendable, Equatable {
    public struct Component: Sendable, Equatable {
        public var grader: String
        public var weight: Double
        /// What the grader returned (score, abstention or typed error).
        public var result: SampleResult
        /// The value that entered the sum after `on_error` (nil: left out).
        public var counted: Double?

        public init(grader: String, weight: Double, result: SampleResult, counted: Double?) {
            self.grader = grader; self.weight = weight; self.result = result; self.counted = counted
        }
    }

    /// The sample's result as it goes over the wire: the combined score, an abstention, or the error,
    /// with the metrics clients see.
    public var output: SampleResult
    /// Set when a grader with `on_error: fail` failed on this sample (a training run stops). A failure
    /// passed through as it is (one grader served on its own, a remote grader) is in ``output`` only.
    public var error: GraderError?
    public var components: [Component]

    public var id: String { output.id }
    /// The combined reward; nil when the sample is abstained or failed.
    public var reward: Double? { output.score }
    /// Every weighted grader abstained (or skipped an error): train on nothing for this sample.
    public var abstained: Bool { output.outcome == .abstained }

    public init(output: SampleResult, error: GraderError? = nil, components: [Component]) {
        self.output = output; self.error = error; self.components = components
    }

    /// One grader's result passed through as the sample's reward (a grader served on its own, a remote
    /// grader): its output unchanged, itself the only component.
    public init(grader: String, result: SampleResult) {
        self.init(output: result, components: [Component(grader: grader, weight: 1, result: result, counted: result.score)])
    }

    /// `{"id", "aggregate_reward_score", "metrics_list"}` or `{"id", "error"}` (``output`` as JSON).
    public var json: JSONValue { output.json }
}

/// The aggregation rule, kept apart from I/O so it is easy to test.
public enum RewardAggregation {
    /// Combines per-grader results for one sample.
    ///
    /// - An error becomes 0 (`on_error: zero`), an abstention (`skip`), or the sample's error (`fail`).
    /// - Abstaining graders are left out and the weights renormalised:
    ///   `reward = Σ_present wᵢ·sᵢ × Σ_all |wᵢ| / Σ_present |wᵢ|` (the plain weighted sum when nobody abstains).
    /// - When every weighted grader abstains, the sample is abstained.
    /// - A non-finite score never reaches the sum (the output checker rejects it first); defensively it
    ///   counts as an abstention.
    public static func combine(id: String, results: [(grader: String, weight: Double, onError: GraderManifest.OnError, result: SampleResult)]) -> RewardResult {
        var components: [RewardResult.Component] = []
        var failure: GraderError?
        var sum = 0.0, presentWeight = 0.0, totalWeight = 0.0
        for r in results {
            var counted: Double?
            switch r.result.outcome {
            case .scored(let s) where s.isFinite: counted = s
            case .scored, .abstained: counted = nil
            case .failed(let e):
                switch r.onError {
                case .zero: counted = 0
                case .skip: counted = nil
                case .fail: if failure == nil { failure = GraderError(e.type, "grader \(r.grader): \(e.message)") }
                }
            }
            totalWeight += abs(r.weight)
            if let v = counted, r.weight != 0 {
                sum += r.weight * v
                presentWeight += abs(r.weight)
            }
            components.append(.init(grader: r.grader, weight: r.weight, result: r.result, counted: counted))
        }
        // What clients see: one `Reward` metric per counted grader, then each grader's own metrics as `grader/name`.
        var metrics: [Metric] = []
        for c in components {
            if let v = c.counted { metrics.append(Metric(name: c.grader, value: v, type: "Reward")) }
            for m in c.result.metrics { metrics.append(Metric(name: "\(c.grader)/\(m.name)", value: m.value, type: m.type)) }
        }
        let outcome: SampleResult.Outcome
        if let failure { outcome = .failed(failure) }
        else if presentWeight > 0 { outcome = .scored(sum * totalWeight / presentWeight) }
        else { outcome = .abstained }
        return RewardResult(output: SampleResult(id: id, outcome: outcome, metrics: metrics), error: failure, components: components)
    }
}
