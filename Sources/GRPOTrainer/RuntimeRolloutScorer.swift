import Foundation
import GraderRuntime
import JSON

/// Completions graded by the sandboxed grader runtime: a reward spec's graders run in warm,
/// sandboxed worker pools; per-grader components, abstentions and typed errors come back per sample.
///
/// ```swift
/// let scorer = try RuntimeRolloutScorer(specPath: "rewards.json")   // or a grader directory
/// defer { scorer.shutdown() }
/// ```
public final class RuntimeRolloutScorer: RolloutScorer, @unchecked Sendable {
    public let runtime: RewardScorer
    public var graderNames: [String] { runtime.spec.entries.map(\.name) }

    /// Starts the graders of the reward spec at `specPath` (a spec file, or a grader directory).
    public init(specPath: String, options: GraderPool.Options = GraderPool.Options()) throws {
        runtime = try RewardScorer(spec: try RewardSpec.load(URL(fileURLWithPath: specPath)), options: options)
    }

    public func score(_ requests: [GradingRequest]) -> [RewardOutcome] {
        let samples = requests.map { Sample(record: $0.sample.objectValue ?? JSONObject(), defaultID: $0.id) }
        return runtime.score(samples).map { r in
            var components: [String: Double] = [:]
            var firstError: GraderError? = r.error
            for c in r.components {
                if let v = c.counted { components[c.grader] = v }
                if firstError == nil, let e = c.result.error { firstError = e }
            }
            return RewardOutcome(id: r.id, reward: r.reward, components: components,
                                 error: firstError.map { GradingFailure(type: $0.type.rawValue, message: $0.message) },
                                 fatal: r.error != nil)
        }
    }

    public func shutdown() { runtime.shutdown() }
}
