import GraderRuntime

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
    /// Current queue depth and worker restarts.
    func stats() -> ScorerStats
}

/// Errors a `BatchScorer` throws for a whole request.
public enum ScorerError: Error, Equatable {
    case unknownGrader(String)
}
