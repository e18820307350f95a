import Foundation
import TransformerModel

/// How completions are drawn.
public struct SamplingSettings: Sendable, Equatable {
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var maxNewTokens: Int
    public init(temperature: Double, topP: Double = 1, topK: Int = 0, maxNewTokens: Int) {
        self.temperature = temperature; self.topP = topP; self.topK = topK; self.maxNewTokens = maxNewTokens
    }
}

/// One sampled completion.
public struct SampledCompletion: Sendable, Equatable {
    /// The generated ids, including the EOS id when the model emitted it (EOS is trained on).
    public var tokens: [Int]
    /// No EOS within `maxNewTokens`.
    public var truncated: Bool
    /// log π of each token under the sampling model itself (temperature 1, before top-k/top-p),
    /// when the policy reports it: only for rollouts at temperature 1, where it is π_old, so a
    /// reused batch (`num_iterations` > 1) skips π_old's forward pass.
    public var logProbs: [Float]?
    public init(tokens: [Int], truncated: Bool, logProbs: [Float]? = nil) {
        self.tokens = tokens; self.truncated = truncated; self.logProbs = logProbs
    }
}

/// A prompt and one completion of it, as the log-prob passes see them.
public struct PolicySequence: Sendable, Equatable {
    public var prompt: [Int]
    public var completion: [Int]
    public init(prompt: [Int], completion: [Int]) { self.prompt = prompt; self.completion = completion }
}

/// What one forward+backward pass returns.
public struct GradientPass: Sendable {
    /// log π_θ of each completion token.
    public var logp: [[Float]]
    /// Mean entropy (nats) of π_θ over the completion tokens.
    public var entropy: Double
    public init(logp: [[Float]], entropy: Double) { self.logp = logp; self.entropy = entropy }
}

/// The policy GRPO trains: the embedded transformer (`TransformerPolicy`), or any model that
/// can sample, score log-probs and take gradient steps.
public protocol GRPOPolicy: AnyObject {
    /// Renders a chat prompt (ending with the open assistant turn) to ids.
    func encodePrompt(_ messages: [ChatMessage]) -> [Int]
    /// Completion ids to text (EOS and other specials dropped).
    func decode(_ tokens: [Int]) -> String
    /// Draws `count` completions of each prompt (`[prompt][k]`), computing each prompt's prefix once.
    func sample(prompts: [[Int]], count: Int, settings: SamplingSettings, seed: UInt64) throws -> [[SampledCompletion]]
    /// log π of each completion token under the current parameters, without gradients.
    func logProbs(_ batch: [PolicySequence]) throws -> [[Float]]
    /// Forward and backward: computes log π_θ, asks `lossGradient` for ∂loss/∂logp, and
    /// accumulates parameter gradients.
    func accumulateGradients(_ batch: [PolicySequence], lossGradient: ([[Float]]) -> [[Float]]) throws -> GradientPass
    /// Clips the accumulated gradient to `maxGradNorm` (0 = no clip), takes one AdamW step, zeroes
    /// the gradient and returns the pre-clip global norm.
    func applyGradients(learningRate: Double) throws -> Double
    /// A frozen copy of the current parameters (the KL reference).
    func frozenCopy() throws -> GRPOPolicy
    /// Writes parameters and optimizer state under `directory`.
    func save(to directory: URL) throws
    /// Restores parameters and optimizer state written by `save`.
    func restore(from directory: URL) throws
}

extension GRPOPolicy {
    /// The texts of `count` completions of each prompt (`[prompt][k]`), as evaluation grades them.
    public func sampleTexts(prompts: [[Int]], count: Int, settings: SamplingSettings, seed: UInt64) throws -> [[String]] {
        try sample(prompts: prompts, count: count, settings: settings, seed: seed).map { $0.map { decode($0.tokens) } }
    }
}

/// A small, fast, seedable generator whose whole state is one word (saved in checkpoints,
/// so a resumed run draws the same numbers).
public struct TrainerRNG: Sendable, Codable, Equatable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 ^ 0xD1B54A32D192ED03 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A Fisher-Yates permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Int(next() % UInt64(i + 1))) }
        return p
    }
}
