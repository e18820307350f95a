import Foundation
import JSON

/// Where rewards come from: graders in local sandboxes (``SandboxScorer``), a reward server over HTTP
/// (`RFTClient.RemoteScorer`), or anything else that scores samples by grader name. The trainer, the
/// reward server and `rft eval` all score through this one protocol.
///
/// `score` returns one ``RewardResult`` per sample, in input order. Every per-sample problem is a typed
/// ``GraderError`` inside the results; `score` throws only for a grader it does not serve
/// (``ScorerError/unknownGrader(_:)``).
public protocol Scorer: AnyObject, Sendable {
    /// The graders (and reward specs) this scorer serves, in listing order.
    var graders: [ServedGrader] { get }
    /// Scores `samples` with the grader (or reward spec) named `grader`.
    func score(_ samples: [Sample], grader: String) async throws -> [RewardResult]
    /// Current queue depth and worker restarts (`GET /metrics`); empty by default.
    func stats() -> ScorerStats
    /// Stops any workers; idempotent. Does nothing by default.
    func shutdown()
}

extension Scorer {
    public func stats() -> ScorerStats { ScorerStats() }
    public func shutdown() {}

    /// Scores from synchronous code (a trainer's grading thread), blocking until the results are in.
    /// Must not be called from a Swift concurrency thread.
    public func scoreBlocking(_ samples: [Sample], grader: String) throws -> [RewardResult] {
        let box = BlockingResult()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await self.score(samples, grader: grader)) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result.get()
    }
}

/// Carries a result from a task to the thread that waits for it.
private final class BlockingResult: @unchecked Sendable {
    var result: Result<[RewardResult], Error> = .success([])
}

/// A grader (or reward spec) as a ``Scorer`` serves it, listed under `GET /v1/graders`.
public struct ServedGrader: Sendable {
    /// The name used in `score(_:grader:)` and `/v1/graders/{name}/invoke`.
    public var name: String
    /// The grader's manifest (`grader.json`) or reward spec, as JSON.
    public var manifest: JSONValue
    /// The reward's components by name (`rewards/<name>/mean`): a spec's graders, or the grader itself.
    public var components: [String]

    public init(name: String, manifest: JSONValue, components: [String]? = nil) {
        self.name = name
        self.manifest = manifest
        self.components = components ?? [name]
    }
}

/// Runtime gauges a scorer reports (the reward server exports them under `GET /metrics`).
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

/// Errors a ``Scorer`` throws for a whole request.
public enum ScorerError: Error, Equatable, CustomStringConvertible {
    case unknownGrader(String)

    public var description: String {
        switch self {
        case .unknownGrader(let name): return "unknown grader \"\(name)\""
        }
    }
}
