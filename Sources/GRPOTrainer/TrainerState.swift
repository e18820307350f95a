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

/// The learning rate at a step: linear warm-up from 0, then constant, linear decay to 0, or
/// cosine decay to 0 at the last step.
public func learningRate(step: Int, total: Int, base: Double, warmup: Int, schedule: LRScheduler) -> Double {
    if warmup > 0, step < warmup { return base * Double(step + 1) / Double(warmup) }
    let span = max(1, total - warmup)
    let progress = min(1, Double(step - warmup) / Double(span))
    switch schedule {
    case .constant: return base
    case .linear: return base * (1 - progress)
    case .cosine: return base * 0.5 * (1 + cos(Double.pi * progress))
    }
}
