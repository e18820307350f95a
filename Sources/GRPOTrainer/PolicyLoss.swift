import Foundation

/// One completion's inputs to the policy loss. All arrays have one entry per completion token.
public struct SequenceLossInput: Sendable {
    /// log π_θ of each completion token under the current parameters.
    public var logp: [Float]
    /// log π_old (the sampling policy). `nil` when μ = 1: π_old = π_θ detached, ratio 1.
    public var oldLogp: [Float]?
    /// log π_ref under the frozen reference. `nil` when β = 0.
    public var refLogp: [Float]?
    /// 1 for tokens that carry loss, 0 for padding or masked (truncated) completions.
    public var mask: [Float]
    /// The sequence's advantage Â_i.
    public var advantage: Float

    public init(logp: [Float], oldLogp: [Float]? = nil, refLogp: [Float]? = nil, mask: [Float]? = nil, advantage: Float) {
        self.logp = logp; self.oldLogp = oldLogp; self.refLogp = refLogp
        self.mask = mask ?? [Float](repeating: 1, count: logp.count); self.advantage = advantage
    }
}

/// The knobs of the clipped surrogate.
public struct PolicyLossSettings: Sendable {
    public var lossType: LossType
    public var epsilonLow: Double
    public var epsilonHigh: Double
    public var beta: Double
    /// L_max for Dr. GRPO's constant normaliser.
    public var maxCompletionLength: Int

    public init(lossType: LossType, epsilonLow: Double = 0.2, epsilonHigh: Double = 0.2, beta: Double = 0,
                maxCompletionLength: Int) {
        self.lossType = lossType; self.epsilonLow = epsilonLow; self.epsilonHigh = epsilonHigh
        self.beta = beta; self.maxCompletionLength = maxCompletionLength
    }

    public init(_ h: Hyperparameters) {
        self.init(lossType: h.lossType, epsilonLow: h.epsilon, epsilonHigh: h.epsilonHigh, beta: h.beta,
                  maxCompletionLength: h.maxCompletionLength)
    }
}

/// The loss value, its gradient with respect to every log π_θ, and the statistics TRL logs.
public struct PolicyLossOutput: Sendable {
    public var loss: Double
    /// ∂loss/∂logp for each sequence and token (zero where masked).
    public var dLogp: [[Float]]
    /// Mean k3 KL over loss tokens (0 when β = 0).
    public var kl: Double
    /// Share of loss tokens with ratio < 1 − ε_low and Â < 0 (`clip_ratio/low_mean`).
    public var clipLow: Double
    /// Share of loss tokens with ratio > 1 + ε_high and Â > 0 (`clip_ratio/high_mean`).
    public var clipHigh: Double
    /// Either of the above (`clip_ratio/region_mean`).
    public var clipRegion: Double
    /// Loss tokens counted.
    public var tokens: Int

    /// Combines the outputs of micro-batches computed with the same `BatchTotals`.
    public static func merge(_ parts: [PolicyLossOutput]) -> PolicyLossOutput {
        let tokens = parts.reduce(0) { $0 + $1.tokens }
        func avg(_ f: (PolicyLossOutput) -> Double) -> Double {
            tokens == 0 ? 0 : parts.reduce(0) { $0 + f($1) * Double($1.tokens) } / Double(tokens)
        }
        return PolicyLossOutput(loss: parts.reduce(0) { $0 + $1.loss }, dLogp: parts.flatMap(\.dLogp),
                                kl: avg(\.kl), clipLow: avg(\.clipLow), clipHigh: avg(\.clipHigh),
                                clipRegion: avg(\.clipRegion), tokens: tokens)
    }
}

/// The batch-wide normalisers, so a micro-batch's loss and gradient are its exact share of
/// the whole batch's.
public struct BatchTotals: Sendable {
    /// Sequences in the whole batch (N).
    public var sequences: Int
    /// Loss tokens in the whole batch (Σ|o_i|).
    public var tokens: Double
    public init(sequences: Int, tokens: Double) { self.sequences = sequences; self.tokens = tokens }
    public init(masks: [[Float]]) {
        self.init(sequences: masks.count, tokens: masks.reduce(0.0) { $0 + Double($1.reduce(0, +)) })
    }
}

/// GRPO, Dr. GRPO and DAPO policy losses with clip-higher and a k3 KL penalty.
///
/// Per token, with r = exp(logp − logp_old):
///   ℓ_t = −[ min(r·Â, clip(r, 1 − ε_low, 1 + ε_high)·Â) − β·KL_t ],
///   KL_t = exp(ref − logp) − (ref − logp) − 1.
/// Normalisation over the N sequences of the batch (|o_i| = masked tokens of sequence i):
///   grpo:    (1/N) Σ_i (1/|o_i|) Σ_t ℓ_t
///   dr_grpo: Σ_i Σ_t ℓ_t / (N · L_max)
///   dapo:    Σ_i Σ_t ℓ_t / Σ_i |o_i|
public enum PolicyLoss {
    /// - Parameter totals: the whole batch's normalisers when `batch` is one micro-batch of it.
    public static func compute(_ batch: [SequenceLossInput], settings s: PolicyLossSettings,
                               totals: BatchTotals? = nil) -> PolicyLossOutput {
        let totals = totals ?? BatchTotals(masks: batch.map(\.mask))
        let n = totals.sequences
        let totalTokens = totals.tokens
        var loss = 0.0, klSum = 0.0, lowSum = 0.0, highSum = 0.0, regionSum = 0.0
        var dLogp: [[Float]] = []
        dLogp.reserveCapacity(n)
        let lo = 1 - s.epsilonLow, hi = 1 + s.epsilonHigh
        for seq in batch {
            let T = seq.logp.count
            precondition(seq.mask.count == T, "mask length must match logp length")
            let seqTokens = Double(seq.mask.reduce(0, +))
            // The weight of one token's ℓ_t in the batch loss.
            let weight: Double
            switch s.lossType {
            case .grpo: weight = seqTokens > 0 ? 1 / (Double(n) * seqTokens) : 0
            case .drGRPO: weight = 1 / (Double(n) * Double(s.maxCompletionLength))
            case .dapo: weight = totalTokens > 0 ? 1 / totalTokens : 0
            }
            let A = Double(seq.advantage)
            var grad = [Float](repeating: 0, count: T)
            for t in 0..<T where seq.mask[t] > 0 {
                let m = Double(seq.mask[t])
                let logp = Double(seq.logp[t])
                let old = seq.oldLogp.map { Double($0[t]) } ?? logp
                let r = exp(logp - old)
                let unclipped = r * A
                let clipped = min(max(r, lo), hi) * A
                var obj: Double, dObj: Double
                if unclipped <= clipped { obj = unclipped; dObj = r * A } else { obj = clipped; dObj = 0 }
                var tokenLoss = -obj, dToken = -dObj
                if s.beta != 0, let ref = seq.refLogp {
                    let x = Double(ref[t]) - logp
                    let kl = exp(x) - x - 1
                    tokenLoss += s.beta * kl
                    dToken += s.beta * (1 - exp(x))
                    klSum += m * kl
                }
                loss += weight * m * tokenLoss
                grad[t] = Float(weight * m * dToken)
                let isLow = r < lo && A < 0, isHigh = r > hi && A > 0
                if isLow { lowSum += m }
                if isHigh { highSum += m }
                if isLow || isHigh { regionSum += m }
            }
            dLogp.append(grad)
        }
        let denom = max(batch.reduce(0.0) { $0 + Double($1.mask.reduce(0, +)) }, 1)
        return PolicyLossOutput(loss: loss, dLogp: dLogp, kl: klSum / denom, clipLow: lowSum / denom,
                                clipHigh: highSum / denom, clipRegion: regionSum / denom,
                                tokens: Int(batch.reduce(0.0) { $0 + Double($1.mask.reduce(0, +)) }))
    }
}
