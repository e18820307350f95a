import Foundation
import JSON

/// Why a sample has no score. Each maps to one kernel or protocol fact, never a guess from an exit code.
public enum GraderErrorType: String, Codable, Sendable, CaseIterable {
    /// The batch passed its `timeout_ms` deadline (the runtime's own monotonic clock); the worker was killed.
    case timeout
    /// The worker hit `memory_mb` (the memory cgroup's OOM counter).
    case memoryLimit = "memory_limit"
    /// The worker died by a signal, exited non-zero, or closed its channel mid-batch.
    case crash
    /// The worker made a forbidden system call (named in the message).
    case syscallViolation = "syscall_violation"
    /// The output broke the batch contract for this sample (missing/duplicate id, score not a finite
    /// number or outside `score_range`, unparsable output).
    case invalidOutput = "invalid_output"
    /// The handler raised (the message carries errorType, errorMessage and the stack trace).
    case handlerError = "handler_error"
    /// The grader could not start: import failed, missing interpreter, bad executable.
    case initError = "init_error"
    /// The pool's queue was full (or the pool was shut down); the sample was not attempted.
    case throttled
    /// The sandbox itself could not be set up: an infrastructure problem, not the grader's verdict.
    case sandboxError = "sandbox_error"
}

/// A typed grading error for one sample.
public struct GraderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var type: GraderErrorType
    public var message: String
    public init(_ type: GraderErrorType, _ message: String) { self.type = type; self.message = message }
    public var description: String { "\(type.rawValue): \(message)" }
    public var json: JSONValue { .object(JSONObject([("type", .string(type.rawValue)), ("message", .string(message))])) }
}

/// Encoded as `{"type": "timeout", "message": "..."}` (run summaries, evaluation reports).
extension GraderError: Codable {
    enum CodingKeys: String, CodingKey { case type, message }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(GraderErrorType.self, forKey: .type), try c.decode(String.self, forKey: .message))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(message, forKey: .message)
    }
}

/// One entry of `metrics_list`: a reward component (`Reward`) or a diagnostic (`Metric`).
public struct Metric: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var type: String
    public init(name: String, value: Double, type: String = "Metric") { self.name = name; self.value = value; self.type = type }
    public var json: JSONValue {
        .object(JSONObject([("name", .string(name)), ("value", .number(value)), ("type", .string(type))]))
    }
}

/// Exactly one of these comes back for every sample: a score, an abstention, or a typed error.
public struct SampleResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case scored(Double)
        /// The grader declined to score this sample (TRL's `None`).
        case abstained
        case failed(GraderError)
    }

    public var id: String
    public var outcome: Outcome
    public var metrics: [Metric]

    public init(id: String, outcome: Outcome, metrics: [Metric] = []) {
        self.id = id; self.outcome = outcome; self.metrics = metrics
    }

    public static func failed(_ id: String, _ type: GraderErrorType, _ message: String) -> SampleResult {
        SampleResult(id: id, outcome: .failed(GraderError(type, message)))
    }

    public var score: Double? { if case .scored(let s) = outcome { return s }; return nil }
    public var error: GraderError? { if case .failed(let e) = outcome { return e }; return nil }

    /// `{"id", "aggregate_reward_score", "metrics_list"}`, or `{"id", "error": {"type", "message"}}`.
    /// An abstention is written with `"aggregate_reward_score": null`.
    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        switch outcome {
        case .scored(let s): o["aggregate_reward_score"] = .number(s)
        case .abstained: o["aggregate_reward_score"] = .null
        case .failed(let e): o["error"] = e.json
        }
        if !metrics.isEmpty, error == nil { o["metrics_list"] = .array(metrics.map(\.json)) }
        return .object(o)
    }
}
