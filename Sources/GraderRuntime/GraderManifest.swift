import Foundation

/// A grader's `grader.json`: how to run it and what limits apply.
///
/// Only `name` and, for python, `handler` (or, for exec, `command`) are required:
/// ```json
/// {"name": "math-exact",
///  "runtime": "python",
///  "handler": "lambda_function.lambda_handler"}
/// ```
public struct GraderManifest: Codable, Sendable, Equatable {
    /// How the grader's code is run.
    public enum Runtime: String, Codable, Sendable, CaseIterable {
        /// A Python handler imported once by rft's bootstrap inside a warm sandboxed worker.
        case python
        /// Any executable: the batch on stdin, the output list on stdout, one sandboxed process per batch.
        case exec
    }

    /// Which reward-function convention the handler follows.
    public enum Contract: String, Codable, Sendable, CaseIterable {
        /// `lambda_handler(event, context)` on a batch (Amazon Bedrock RFT). Also the exec wire format.
        case bedrock
        /// `grade(sample, item) -> float` (OpenAI RFT python grader).
        case openai
        /// `reward(prompts, completions, **kwargs) -> list[float | None]` (TRL).
        case trl
        /// `compute_score(data_source, solution_str, ground_truth, extra_info=None)` (verl).
        case verl
    }

    /// What a sample whose grading failed counts as when rewards are combined.
    public enum OnError: String, Codable, Sendable, CaseIterable {
        /// Reward 0 (OpenAI's behaviour).
        case zero
        /// Abstain: this grader is left out of the sample's combined reward.
        case skip
        /// The sample's combined result is the error.
        case fail
    }

    public var name: String
    public var runtime: Runtime
    /// `module.function` (python runtime).
    public var handler: String?
    /// argv of the program (exec runtime); a relative program path is resolved against the grader directory.
    public var command: [String]?
    public var contract: Contract
    /// Deadline per batch invocation (Lambda's default: 3000).
    public var timeoutMs: Int
    /// Deadline for the init phase (starting the worker and importing the handler).
    public var initTimeoutMs: Int
    /// Memory limit per worker (memory cgroup).
    public var memoryMB: Int
    /// CPU bandwidth per worker: ms of CPU per second over all cores (1000 = one core; nsjail's
    /// `cgroup_cpu_ms_per_sec`). cpu cgroup, root only; `nil` = unlimited.
    public var cpuMsPerSec: Int?
    /// Warm workers (python) or concurrent processes (exec).
    public var concurrency: Int
    /// Samples per invocation; larger inputs are split and spread over the workers.
    public var batchSize: Int
    /// Whether the grader may use the host network.
    public var network: Bool
    /// Environment allowlist: a name maps to a fixed value, or to nil to pass the caller's value through.
    public var environment: [String: String?]
    /// How many times a batch whose worker timed out, crashed or broke the protocol is retried.
    /// Each retry splits the batch in two, so one poisonous sample cannot fail the others.
    public var retries: Int
    public var onError: OnError
    /// Inclusive [low, high] every score must fall in.
    public var scoreRange: [Double]?
    /// Recycle a warm worker after this many invocations.
    public var recycleAfter: Int
    /// Batches that may wait for a worker; beyond that, samples get `throttled`.
    public var queueLimit: Int
    /// Degraded mode: start even when a limit (`memory_mb`, `cpu_ms_per_sec`) can only be enforced
    /// by a weaker fallback here, printing what is degraded. Off by default: the pool refuses to
    /// start and names the missing layer and its fix. `--allow-degraded` and
    /// `RFT_ALLOW_DEGRADED=1` turn it on for every grader.
    public var allowDegraded: Bool = false
    /// Opt-in to the exec service (`"exec": {…}`): the grader may ask rft to run untrusted code in fresh
    /// sandboxes of its own, within these limits. `nil` (the default): the grader gets no exec channel.
    public var exec: ExecSettings?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, runtime, handler, command, contract, network, environment, retries, concurrency
        case timeoutMs = "timeout_ms", initTimeoutMs = "init_timeout_ms", memoryMB = "memory_mb"
        case cpuMsPerSec = "cpu_ms_per_sec"
        case batchSize = "batch_size", onError = "on_error", scoreRange = "score_range"
        case recycleAfter = "recycle_after", queueLimit = "queue_limit", allowDegraded = "allow_degraded"
        case exec
    }

    public init(name: String, runtime: Runtime = .python, handler: String? = nil, command: [String]? = nil,
                contract: Contract = .bedrock, timeoutMs: Int = 3000, initTimeoutMs: Int = 10_000,
                memoryMB: Int = 512, concurrency: Int = 2, batchSize: Int = 32, network: Bool = false,
                environment: [String: String?] = [:], retries: Int = 1, onError: OnError = .zero,
                scoreRange: [Double]? = nil, recycleAfter: Int = 1000, queueLimit: Int = 1024) {
        self.name = name; self.runtime = runtime; self.handler = handler; self.command = command
        self.contract = contract; self.timeoutMs = timeoutMs; self.initTimeoutMs = initTimeoutMs
        self.memoryMB = memoryMB; self.concurrency = concurrency; self.batchSize = batchSize
        self.network = network; self.environment = environment; self.retries = retries
        self.onError = onError; self.scoreRange = scoreRange; self.recycleAfter = recycleAfter
        self.queueLimit = queueLimit
    }
}

/// A manifest problem, naming the file and the field path.
public struct ManifestError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The manifest file, e.g. `graders/math/grader.json`.
    public var file: String
    /// The field path, e.g. `score_range[1]`; empty for problems with the whole file.
    public var field: String
    public var message: String

    public init(file: String, field: String, message: String) {
        self.file = file; self.field = field; self.message = message
    }

    public var description: String { field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)" }
}
