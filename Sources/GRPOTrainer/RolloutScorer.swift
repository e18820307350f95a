import Foundation
import GraderRuntime
import JSON

/// One completion to grade.
public struct GradingRequest: Sendable {
    /// Unique within a step: `<prompt id>#<step>.<k>`; results are mapped back by it.
    public var id: String
    public var record: PromptRecord
    public var completion: String
    public init(id: String, record: PromptRecord, completion: String) {
        self.id = id; self.record = record; self.completion = completion
    }
    /// The Bedrock batch-contract sample (record + assistant turn + id).
    public var sample: JSONValue { record.graderSample(id: id, completion: completion) }
}

/// A failed grading, typed as the runtime types it (`timeout`, `crash`, ...).
public struct GradingFailure: Sendable, Equatable, Codable {
    public var type: String
    public var message: String
    public init(type: String, message: String) { self.type = type; self.message = message }
}

/// The grade of one completion: a reward (with per-grader components), an abstention
/// (reward nil, no error), or a failure.
public struct RewardOutcome: Sendable, Equatable {
    public var id: String
    public var reward: Double?
    public var components: [String: Double]
    /// The first grader error on this sample, even when `on_error` turned it into 0 or an abstention.
    public var error: GradingFailure?
    /// A grader with `on_error: fail` failed: the run stops.
    public var fatal: Bool
    public init(id: String, reward: Double?, components: [String: Double] = [:], error: GradingFailure? = nil,
                fatal: Bool = false) {
        self.id = id; self.reward = reward; self.components = components; self.error = error; self.fatal = fatal
    }
}

/// Scores completions: the sandboxed grader runtime, a remote reward server, or an in-process
/// function. Called from a background thread while the policy samples; must return one outcome
/// per request (in any order: outcomes are matched by id).
public protocol RolloutScorer: AnyObject, Sendable {
    /// Component names, for `rewards/<name>/mean`.
    var graderNames: [String] { get }
    func score(_ requests: [GradingRequest]) -> [RewardOutcome]
    /// Stops any workers (called once at the end of a run).
    func shutdown()
}

extension RolloutScorer {
    public func shutdown() {}
}

/// A reward computed in-process by a Swift closure (tests, toy tasks, benchmarks).
public final class ClosureScorer: RolloutScorer, @unchecked Sendable {
    public let graderNames: [String]
    let fn: (GradingRequest) -> Double?
    public init(name: String, _ fn: @escaping (GradingRequest) -> Double?) { graderNames = [name]; self.fn = fn }
    public func score(_ requests: [GradingRequest]) -> [RewardOutcome] {
        requests.map { r in
            let v = fn(r)
            return RewardOutcome(id: r.id, reward: v, components: v.map { [graderNames[0]: $0] } ?? [:])
        }
    }
}

/// Runs scoring calls on a background thread so the policy can sample the next group meanwhile,
/// and keeps each call's latency.
final class GradingQueue: @unchecked Sendable {
    private let scorer: RolloutScorer
    private let queue = DispatchQueue(label: "rft.grading")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var outcomes: [String: RewardOutcome] = [:]
    private var latencies: [Double] = []

    init(scorer: RolloutScorer) { self.scorer = scorer }

    /// Starts grading `requests` in the background.
    func submit(_ requests: [GradingRequest]) {
        guard !requests.isEmpty else { return }
        group.enter()
        queue.async { [self] in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let results = scorer.score(requests)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            lock.lock()
            for r in results { outcomes[r.id] = r }
            // A scorer that lost a sample still yields exactly one outcome per request.
            for q in requests where outcomes[q.id] == nil {
                outcomes[q.id] = RewardOutcome(id: q.id, reward: nil,
                                               error: GradingFailure(type: "invalid_output", message: "no result for sample \(q.id)"))
            }
            latencies.append(ms)
            lock.unlock()
            group.leave()
        }
    }

    /// Waits for everything submitted and returns the outcomes and call latencies (ms), then resets.
    func collect() -> (outcomes: [String: RewardOutcome], latenciesMs: [Double]) {
        group.wait()
        lock.lock(); defer { lock.unlock() }
        let out = (outcomes, latencies)
        outcomes = [:]; latencies = []
        return out
    }
}
