import Foundation
import GraderRuntime

/// Completions graded by a grader served by `rft serve-rewards` (retries, typed failures).
public final class RemoteRolloutScorer: RolloutScorer, @unchecked Sendable {
    public let remote: RemoteGrader
    public let graderNames: [String]

    public init(url: URL, grader: String, apiKey: String?) {
        remote = RemoteGrader(.init(url: url, grader: grader, apiKey: apiKey))
        graderNames = [grader]
    }

    public func score(_ requests: [GradingRequest]) -> [RewardOutcome] {
        let samples = requests.map { Sample(record: $0.sample.objectValue ?? JSONObject(), defaultID: $0.id) }
        let name = graderNames[0]
        return remote.score(samples).map { r in
            switch r.outcome {
            case .scored(let s): return RewardOutcome(id: r.id, reward: s, components: [name: s])
            case .abstained: return RewardOutcome(id: r.id, reward: nil)
            case .failed(let e): return RewardOutcome(id: r.id, reward: nil, error: GradingFailure(type: e.type.rawValue, message: e.message))
            }
        }
    }
}

/// Builds the pieces a config names.
public enum TrainingSetup {
    /// The reward source: local sandboxed graders or a remote reward server.
    public static func scorer(_ rewards: RewardsSource) throws -> RolloutScorer {
        switch rewards {
        case .spec(let path):
            return try RuntimeRolloutScorer(specPath: path)
        case .remote(let url, let grader, let env):
            guard let u = URL(string: url) else {
                throw ConfigError.outOfRange(field: "rewards.url", value: url, allowed: "an http:// or https:// URL")
            }
            var key: String? = nil
            if let env {
                guard let v = ProcessInfo.processInfo.environment[env] else {
                    throw ConfigError.missing(field: "rewards.api_key_env", hint: "environment variable \(env) is not set")
                }
                key = v
            }
            return RemoteRolloutScorer(url: u, grader: grader, apiKey: key)
        }
    }

    /// The policy: a checkpoint (rft or Hugging Face), or a fresh model seeded with `seed`.
    public static func policy(_ model: ModelSource, hyperparameters h: Hyperparameters) throws -> TransformerPolicy {
        let policy: TransformerPolicy
        switch model {
        case .checkpoint(let path): policy = try TransformerPolicy.load(checkpoint: URL(fileURLWithPath: path), hyperparameters: h)
        case .scratch(let c): policy = try TransformerPolicy.scratch(c, seed: UInt64(h.seed), hyperparameters: h)
        }
        if policy.model.config.maxSeqLen < h.maxCompletionLength + 1 {
            throw ConfigError.outOfRange(field: "hyperparameters.max_completion_length", value: "\(h.maxCompletionLength)",
                                         allowed: "below the model's max_seq_len (\(policy.model.config.maxSeqLen))")
        }
        return policy
    }

    /// Train and validation prompts; a schema error stops with file:line.
    public static func data(_ config: TrainConfig) throws -> (train: [PromptRecord], validation: [PromptRecord]) {
        let train = try PromptDataset.load(config.trainData)
        let val = try config.validationData.map(PromptDataset.load) ?? []
        return (train, val)
    }
}
