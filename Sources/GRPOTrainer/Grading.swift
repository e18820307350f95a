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

/// The grade of one completion: a reward (with per-grader components), an abstention
/// (reward nil, no error), or a failure.
public struct RewardOutcome: Sendable, Equatable {
    public var id: String
    public var reward: Double?
    public var components: [String: Double]
    /// The first grader error on this sample, even when `on_error` turned it into 0 or an abstention.
    public var error: GraderError?
    /// A grader with `on_error: fail` failed: the run stops.
    public var fatal: Bool
    public init(id: String, reward: Double?, components: [String: Double] = [:], error: GraderError? = nil,
                fatal: Bool = false) {
        self.id = id; self.reward = reward; self.components = components; self.error = error; self.fatal = fatal
    }

    /// A scorer's result for one completion: counted components, the first error (the sample's own, else
    /// the first grader's), fatal when a grader with `on_error: fail` failed.
    public init(_ r: RewardResult) {
        var components: [String: Double] = [:]
        var firstError: GraderError? = r.error ?? r.output.error
        for c in r.components {
            if let v = c.counted { components[c.grader] = v }
            if firstError == nil, let e = c.result.error { firstError = e }
        }
        self.init(id: r.id, reward: r.reward, components: components, error: firstError, fatal: r.error != nil)
    }
}

extension Scorer {
    /// The reward the trainer scores with: the scorer's first (for a trainer, only) grader.
    public var rewardName: String { graders.first?.name ?? "" }
    /// Component names, for `rewards/<name>/mean`.
    public var graderNames: [String] { graders.first?.components ?? [] }

    /// Grades completions with ``rewardName``; one outcome per request (a scorer that throws yields
    /// typed errors for every request).
    func grade(_ requests: [GradingRequest]) -> [RewardOutcome] {
        let samples = requests.map { Sample(record: $0.sample.objectValue ?? JSONObject(), defaultID: $0.id) }
        do {
            return try scoreBlocking(samples, grader: rewardName).map(RewardOutcome.init)
        } catch {
            return requests.map { RewardOutcome(id: $0.id, reward: nil, error: GraderError(.initError, "\(error)")) }
        }
    }
}

/// A reward computed in-process by a Swift closure over each sample (tests, toy tasks, benchmarks).
public final class ClosureScorer: Scorer, @unchecked Sendable {
    public let graders: [ServedGrader]
    let fn: (Sample) -> Double?
    public init(name: String, _ fn: @escaping (Sample) -> Double?) {
        graders = [ServedGrader(name: name, manifest: ["name": .string(name), "runtime": "swift"])]
        self.fn = fn
    }
    public func score(_ samples: [Sample], grader: String) async throws -> [RewardResult] {
        guard grader == rewardName else { throw ScorerError.unknownGrader(grader) }
        return samples.map { s in
            let outcome: SampleResult.Outcome = fn(s).map { .scored($0) } ?? .abstained
            return RewardResult(grader: grader, result: SampleResult(id: s.id, outcome: outcome))
        }
    }
}

/// Runs scoring calls on a background thread so the policy can sample the next group meanwhile,
/// and keeps each call's latency.
final class GradingQueue: @unchecked Sendable {
    private let scorer: Scorer
    private let queue = DispatchQueue(label: "rft.grading")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var outcomes: [String: RewardOutcome] = [:]
    private var latencies: [Double] = []

    init(scorer: Scorer) { self.scorer = scorer }

    /// Starts grading `requests` in the background.
    func submit(_ requests: [GradingRequest]) {
        guard !requests.isEmpty else { return }
        group.enter()
        queue.async { [self] in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let results = scorer.grade(requests)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            lock.lock()
            for r in results { outcomes[r.id] = r }
            // A scorer that lost a sample still yields exactly one outcome per request.
            for q in requests where outcomes[q.id] == nil {
                outcomes[q.id] = RewardOutcome(id: q.id, reward: nil,
                                               error: GraderError(.invalidOutput, "no result for sample \(q.id)"))
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
