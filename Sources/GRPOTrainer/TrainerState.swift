import Foundation

/// Everything besides the model needed to continue a run exactly: saved as
/// `trainer_state.json` in each checkpoint.
public struct TrainerState: Codable, Equatable, Sendable {
    /// Optimizer steps completed.
    public var step = 0
    /// Data order: epoch and position within its permutation.
    public var epoch = 0
    public var position = 0
    public var rng: TrainerRNG
    public var numTokens = 0
    public var bestValReward: Double?
    public var bestCheckpoint: String?
    public var baselineValReward: Double?

    public init(seed: Int) { rng = TrainerRNG(seed: UInt64(seed)) }

    enum CodingKeys: String, CodingKey {
        case step, epoch, position, rng, numTokens = "num_tokens", bestValReward = "best_val_reward"
        case bestCheckpoint = "best_checkpoint", baselineValReward = "baseline_val_reward"
    }
}

