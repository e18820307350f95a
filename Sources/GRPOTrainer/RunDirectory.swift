import Foundation
import GraderRuntime
import JSON

/// A run's lifecycle, as Bedrock names it.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case inProgress = "InProgress"
    case completed = "Completed"
    case failed = "Failed"
    case stopping = "Stopping"
    case stopped = "Stopped"
}

/// `summary.json`: the state of a run at a glance.
public struct RunSummary: Codable, Equatable, Sendable {
    public var status: RunStatus
    /// Optimizer steps completed.
    public var steps: Int
    public var totalSteps: Int
    public var epoch: Int
    public var baselineValReward: Double?
    public var finalValReward: Double?
    public var bestValReward: Double?
    /// Path (relative to the run directory) of the checkpoint with the best validation reward.
    public var bestCheckpoint: String?
    public var finalCheckpoint: String?
    /// Periodic checkpoints still on disk, oldest first.
    public var checkpoints: [String]
    public var startedAt: Double
    public var updatedAt: Double
    /// The training process, to tell a live InProgress run from one that was killed.
    public var pid: Int32?
    public var error: String?
    /// Grader errors over the run (training steps and the baseline), by type with example messages;
    /// nil while there are none.
    public var graderErrors: GraderErrorTally?
    /// Held-out test splits (`data.test`), evaluated before and after training only; written as
    /// flat keys `<name>_baseline_reward`, `<name>_final_reward`, `<name>_baseline_stderr`, … and
    /// listed in order under `test_splits`.
    public var testSplits: [TestSplitRewards] = []
    /// The threads the model's passes ran on (results are reproducible for a seed and thread
    /// count; docs/TRAINING.md, "Threads"); nil for a policy that is not rft's transformer.
    public var modelThreads: Int?

    public init(status: RunStatus = .inProgress, steps: Int = 0, totalSteps: Int = 0) {
        self.status = status; self.steps = steps; self.totalSteps = totalSteps; self.epoch = 0
        self.checkpoints = []
        self.startedAt = Date().timeIntervalSince1970; self.updatedAt = startedAt
        self.pid = ProcessInfo.processInfo.processIdentifier
    }

    enum CodingKeys: String, CodingKey {
        case status, steps, totalSteps = "total_steps", epoch
        case baselineValReward = "baseline_val_reward", finalValReward = "final_val_reward"
        case bestValReward = "best_val_reward", bestCheckpoint = "best_checkpoint"
        case finalCheckpoint = "final_checkpoint", checkpoints
        case startedAt = "started_at", updatedAt = "updated_at", pid, error, graderErrors = "grader_errors"
        case testSplits = "test_splits", modelThreads = "model_threads"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(RunStatus.self, forKey: .status)
        steps = try c.decode(Int.self, forKey: .steps); totalSteps = try c.decode(Int.self, forKey: .totalSteps)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch) ?? 0
        baselineValReward = try c.decodeIfPresent(Double.self, forKey: .baselineValReward)
        finalValReward = try c.decodeIfPresent(Double.self, forKey: .finalValReward)
        bestValReward = try c.decodeIfPresent(Double.self, forKey: .bestValReward)
        bestCheckpoint = try c.decodeIfPresent(String.self, forKey: .bestCheckpoint)
        finalCheckpoint = try c.decodeIfPresent(String.self, forKey: .finalCheckpoint)
        checkpoints = try c.decodeIfPresent([String].self, forKey: .checkpoints) ?? []
        startedAt = try c.decode(Double.self, forKey: .startedAt); updatedAt = try c.decode(Double.self, forKey: .updatedAt)
        pid = try c.decodeIfPresent(Int32.self, forKey: .pid); error = try c.decodeIfPresent(String.self, forKey: .error)
        graderErrors = try c.decodeIfPresent(GraderErrorTally.self, forKey: .graderErrors)
        modelThreads = try c.decodeIfPresent(Int.self, forKey: .modelThreads)
        let names = try c.decodeIfPresent([String].self, forKey: .testSplits) ?? []
        let flat = try decoder.container(keyedBy: FlatKey.self)
        testSplits = try names.map { name in
            func value<T: Decodable>(_ suffix: String, _: T.Type) throws -> T? {
                try flat.decodeIfPresent(T.self, forKey: FlatKey("\(name)_\(suffix)"))
            }
            return TestSplitRewards(name: name, prompts: try value("prompts", Int.self) ?? 0,
                                    baselineReward: try value("baseline_reward", Double.self),
                                    baselineStderr: try value("baseline_stderr", Double.self),
                                    finalReward: try value("final_reward", Double.self),
                                    finalStderr: try value("final_stderr", Double.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status); try c.encode(steps, forKey: .steps)
        try c.encode(totalSteps, forKey: .totalSteps); try c.encode(epoch, forKey: .epoch)
        // The contract keys are always present, as null when unknown.
        try c.encode(baselineValReward, forKey: .baselineValReward)
        try c.encode(finalValReward, forKey: .finalValReward)
        try c.encode(bestValReward, forKey: .bestValReward)
        try c.encode(bestCheckpoint, forKey: .bestCheckpoint)
        try c.encode(finalCheckpoint, forKey: .finalCheckpoint)
        try c.encode(checkpoints, forKey: .checkpoints)
        try c.encode(startedAt, forKey: .startedAt); try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(pid, forKey: .pid); try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(graderErrors, forKey: .graderErrors)
        try c.encodeIfPresent(modelThreads, forKey: .modelThreads)
        guard !testSplits.isEmpty else { return }
        try c.encode(testSplits.map(\.name), forKey: .testSplits)
        var flat = encoder.container(keyedBy: FlatKey.self)
        for t in testSplits {
            try flat.encode(t.prompts, forKey: FlatKey("\(t.name)_prompts"))
            // Like the validation keys, always present (null until measured).
            try flat.encode(t.baselineReward, forKey: FlatKey("\(t.name)_baseline_reward"))
            try flat.encode(t.baselineStderr, forKey: FlatKey("\(t.name)_baseline_stderr"))
            try flat.encode(t.finalReward, forKey: FlatKey("\(t.name)_final_reward"))
            try flat.encode(t.finalStderr, forKey: FlatKey("\(t.name)_final_stderr"))
        }
    }

    /// A key made at run time (`test_baseline_reward`).
    struct FlatKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// True when the status says InProgress but the process that wrote it is gone (killed).
    public var isStale: Bool {
        guard status == .inProgress || status == .stopping, let pid else { return false }
        if kill(pid, 0) != 0 { return errno == ESRCH }
        // A killed process not yet reaped is a zombie: state "Z" in /proc/PID/stat.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

/// Baseline and final mean reward on one held-out test split, each with its standard error
/// (the reward's standard deviation over √samples).
public struct TestSplitRewards: Equatable, Sendable {
    public var name: String
    public var prompts: Int
    public var baselineReward: Double?, baselineStderr: Double?
    public var finalReward: Double?, finalStderr: Double?

    public init(name: String, prompts: Int, baselineReward: Double? = nil, baselineStderr: Double? = nil,
                finalReward: Double? = nil, finalStderr: Double? = nil) {
        self.name = name; self.prompts = prompts
        self.baselineReward = baselineReward; self.baselineStderr = baselineStderr
        self.finalReward = finalReward; self.finalStderr = finalStderr
    }
}

/// The files of one run:
/// `config.json`, `metrics.jsonl`, `samples.jsonl`, `summary.json`, `baseline.json`,
/// `final_eval.json`, `train.log` and `checkpoints/<name>/`.
public struct RunDirectory: Sendable {
    public let url: URL
    public init(_ path: String) { url = URL(fileURLWithPath: path).standardized }

    public var path: String { url.path }
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    public var configURL: URL { file("config.json") }
    public var metricsURL: URL { file("metrics.jsonl") }
    public var samplesURL: URL { file("samples.jsonl") }
    public var summaryURL: URL { file("summary.json") }
    public var logURL: URL { file("train.log") }
    public var checkpointsURL: URL { file("checkpoints") }
    public func checkpoint(_ name: String) -> URL { checkpointsURL.appendingPathComponent(name) }

    public func create() throws {
        try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: summaryURL.path) }

    public func writeJSON(_ value: JSONValue, to name: String) throws {
        try Data((value.jsonString(sortedKeys: true, pretty: true) + "\n").utf8).write(to: file(name), options: .atomic)
    }

    public func readJSON(_ name: String) -> JSONValue? {
        guard let d = FileManager.default.contents(atPath: file(name).path) else { return nil }
        return try? JSONValue.parse(d)
    }

    public func writeSummary(_ s: RunSummary) throws {
        var s = s
        s.updatedAt = Date().timeIntervalSince1970
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (try enc.encode(s) + Data("\n".utf8)).write(to: summaryURL, options: .atomic)
    }

    public func readSummary() throws -> RunSummary {
        try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: summaryURL))
    }

    /// Appends JSON lines to `name` (created when missing).
    public func append(_ lines: [JSONValue], to name: String) throws {
        guard !lines.isEmpty else { return }
        let text = lines.map { $0.jsonString(sortedKeys: true) }.joined(separator: "\n") + "\n"
        try appendText(text, to: file(name))
    }

    public func log(_ line: String) {
        try? appendText(line + "\n", to: logURL)
    }

    private func appendText(_ text: String, to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
    }

    /// Every JSON line of `name`, skipping torn or blank lines.
    public func readLines(_ name: String) -> [JSONValue] {
        guard let d = FileManager.default.contents(atPath: file(name).path) else { return [] }
        return String(decoding: d, as: UTF8.self).split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    /// Drops lines whose `step` is greater than `step` (used when resuming from a checkpoint,
    /// so the continued curve has no duplicate steps).
    public func truncate(_ name: String, afterStep step: Int) throws {
        guard FileManager.default.fileExists(atPath: file(name).path) else { return }
        let kept = readLines(name).filter { ($0["step"]?.doubleValue).map { Int($0) <= step } ?? true }
        let text = kept.map { $0.jsonString(sortedKeys: true) }.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")
        try Data(text.utf8).write(to: file(name), options: .atomic)
    }

    /// Run directories under `root` (those holding a `summary.json`), newest first.
    public static func list(root: String) -> [RunDirectory] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        let runs = names.map { RunDirectory(URL(fileURLWithPath: root).appendingPathComponent($0).path) }.filter(\.exists)
        return runs.sorted { a, b in
            ((try? a.readSummary().startedAt) ?? 0) > ((try? b.readSummary().startedAt) ?? 0)
        }
    }
}
