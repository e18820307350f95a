import GraderRuntime
import JSON

/// A grader as the server lists it under `GET /v1/graders`.
public struct ServedGrader: Sendable {
    /// The name used in `/v1/graders/{name}/invoke`.
    public var name: String
    /// The grader's manifest (`grader.json`) or reward spec, as JSON.
    public var manifest: JSONValue

    public init(name: String, manifest: JSONValue) {
        self.name = name
        self.manifest = manifest
    }
}

/// Runtime gauges the server exports under `GET /metrics`.
public struct ScorerStats: Sendable {
    /// Batches waiting for a worker, per grader.
    public var queueDepth: [String: Int]
    /// Workers replaced after a crash, timeout or protocol break, per grader.
    public var workerRestarts: [String: Int]

    public init(queueDepth: [String: Int] = [:], workerRestarts: [String: Int] = [:]) {
        self.queueDepth = queueDepth
        self.workerRestarts = workerRestarts
    }
}

/// What the reward server needs from a grader runtime: score a batch with a named grader.
///
/// `RuntimeScorer` serves grader directories and reward specs through `GraderRuntime`; tests also use
/// a closure to control timing. `score` returns the Bedrock output list, one entry per input sample
/// and in input order, each `{"id", "aggregate_reward_score", "metrics_list"?}` or
/// `{"id", "error": {"type", "message"}}`, exactly as `rft grader invoke` prints it. It never fails
/// for a bad sample; it throws only for an unknown grader (`ScorerError.unknownGrader`).
public protocol BatchScorer: Sendable {
    /// The graders this scorer serves, in listing order.
    var graders: [ServedGrader] { get }
    /// Scores `samples` with `grader`.
    func score(grader: String, samples: [Sample]) async throws -> [JSONValue]
    /// Scores `samples` with `grader` and returns the output list already encoded, byte for byte what
    /// `JSONValue.array(score(...)).jsonBytes()` would be. The default encodes `score`'s answer; a
    /// scorer that holds typed results writes them without building JSON trees.
    func scoreEncoded(grader: String, samples: [Sample]) async throws -> EncodedOutputs
    /// Current queue depth and worker restarts.
    func stats() -> ScorerStats
}

extension BatchScorer {
    public func scoreEncoded(grader: String, samples: [Sample]) async throws -> EncodedOutputs {
        EncodedOutputs(try await score(grader: grader, samples: samples))
    }
}

/// An output list encoded as JSON, with the count of each per-sample result.
public struct EncodedOutputs: Sendable {
    /// The output list, compact JSON.
    public var json: [UInt8]
    /// Entries in the list.
    public var count: Int
    /// Entries per result: "scored" (abstentions included) or the error type.
    public var results: [String: Int]

    /// Encodes output entries as `score` returns them.
    public init(_ outputs: [JSONValue]) {
        json = JSONValue.array(outputs).jsonBytes()
        count = outputs.count
        results = Self.results(of: outputs)
    }

    /// Entries per result of an output list: "scored" (abstentions included) or the error type.
    public static func results(of outputs: [JSONValue]) -> [String: Int] {
        var results: [String: Int] = [:]
        for o in outputs { results[o["error"]?["type"]?.stringValue ?? "scored", default: 0] += 1 }
        return results
    }

    /// Encodes the runtime's results without building JSON trees.
    public init(_ outputs: [SampleResult]) {
        json = SampleResult.outputListJSON(outputs)
        count = outputs.count
        var scored = 0
        var failed: [GraderErrorType: Int] = [:]
        for r in outputs {
            if case .failed(let e) = r.outcome { failed[e.type, default: 0] += 1 } else { scored += 1 }
        }
        results = scored > 0 ? ["scored": scored] : [:]
        for (type, n) in failed { results[type.rawValue] = n }
    }
}

/// Errors a `BatchScorer` throws for a whole request.
public enum ScorerError: Error, Equatable {
    case unknownGrader(String)
}
