import Foundation
import GraderRuntime
import JSON
import RFTClient

/// Builds the pieces a config names.
public enum TrainingSetup {
    /// The reward source: local sandboxed graders or a remote reward server.
    public static func scorer(_ rewards: RewardsSource) throws -> Scorer {
        switch rewards {
        case .spec(let path):
            return try SandboxScorer(spec: RewardSpec.load(URL(fileURLWithPath: path)))
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
            return RemoteScorer(.init(url: u, grader: grader, apiKey: key))
        }
    }

    /// The policy: a checkpoint (rft or Hugging Face), or a fresh model seeded with `seed`.
    ///
    /// A `max_completion_length` that was set and does not fit the model's context is an error naming
    /// `lengthOption`: the config field for `rft train`, the command's option (`--max-tokens`) elsewhere.
    public static func policy(_ model: ModelSource, hyperparameters h: Hyperparameters,
                              lengthOption: String = "hyperparameters.max_completion_length") throws -> TransformerPolicy {
        let policy: TransformerPolicy
        switch model {
        case .checkpoint(let path): policy = try TransformerPolicy.load(checkpoint: URL(fileURLWithPath: path), hyperparameters: h)
        case .scratch(let c): policy = try TransformerPolicy.scratch(c, seed: UInt64(h.seed), hyperparameters: h)
        }
        let context = policy.model.config.maxSeqLen
        if !h.maxCompletionLengthIsDefault, context < h.maxCompletionLength + 1 {
            let allowed = "at most \(context - 1): the model's context (max_seq_len) is \(context) tokens; "
                + "left out, it defaults to \(Hyperparameters.defaultCompletionLength(maxSeqLen: context))"
            if lengthOption.hasPrefix("-") {
                throw ConfigError.badOption(option: lengthOption, value: "\(h.maxCompletionLength)", allowed: allowed)
            }
            throw ConfigError.outOfRange(field: lengthOption, value: "\(h.maxCompletionLength)", allowed: allowed)
        }
        return policy
    }

    /// Gives a `max_completion_length` left at its default the length that fits the model's context.
    public static func fitCompletionLength(_ h: inout Hyperparameters, maxSeqLen: Int) {
        guard h.maxCompletionLengthIsDefault else { return }
        h.maxCompletionLength = Hyperparameters.defaultCompletionLength(maxSeqLen: maxSeqLen)
    }

    /// Train, validation and test prompts; a schema error stops with file:line.
    public static func data(_ config: TrainConfig) throws -> (train: [PromptRecord], validation: [PromptRecord], tests: [TestSplit]) {
        let train = try PromptDataset.load(config.trainData)
        let val = try config.validationData.map(PromptDataset.load) ?? []
        let tests = try config.testData.map { TestSplit(name: $0.name, records: try PromptDataset.load($0.path)) }
        return (train, val, tests)
    }
}
