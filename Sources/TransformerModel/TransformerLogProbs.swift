import Foundation

// The public training interface: per-token log-probabilities (GRPO), their backward pass,
// and next-token cross-entropy (SFT).

extension Transformer {
    /// Log-probabilities and entropies of every scored token of `batch`.
    ///
    /// With `keepingActivations` (the default), keeps every layer's activations, so a following
    /// `backward(batch, dLogProbs:)` on the same batch can accumulate parameter gradients.
    /// Without, runs forward only in a small buffer of one layer's activations that is kept
    /// between calls, leaving the activations of the latest kept forward (and its `backward`)
    /// untouched: use it for π_old and the frozen reference.
    public func tokenLogProbs(_ batch: TokenBatch, keepingActivations: Bool = true) throws -> TokenLogProbs {
        let split = try split(batch, keeping: keepingActivations)
        let out = forwardParts(split, keeping: keepingActivations)
        if keepingActivations { forwardBatch = (batch, split) }
        var result = TokenLogProbs(logProbs: [], entropies: [])
        for (b, o) in zip(split.packed, out) {
            result.logProbs += b.split(o.logp)
            result.entropies += b.split(o.entropy)
        }
        return result
    }

    /// Accumulates into `gradients` the gradient of a loss whose derivative with respect to each
    /// scored token's log-probability is `dLogProbs` (same shape as `TokenLogProbs.logProbs`).
    ///
    /// Must follow `tokenLogProbs` on the same batch, with no other forward pass in between.
    public func backward(_ batch: TokenBatch, dLogProbs: [[Float]]) throws {
        guard let (last, split) = forwardBatch, last == batch else {
            throw ModelError.backwardWithoutMatchingForward
        }
        let scored = split.scoredPerSequence
        guard dLogProbs.count == scored.count else {
            throw ModelError.gradientShapeMismatch(sequence: min(dLogProbs.count, scored.count),
                                                   expected: scored.count, got: dLogProbs.count)
        }
        for (i, d) in dLogProbs.enumerated() where d.count != scored[i] {
            throw ModelError.gradientShapeMismatch(sequence: i, expected: scored[i], got: d.count)
        }
        backwardParts(split, dLogProbs: dLogProbs)
    }

    /// Mean next-token cross-entropy (nats) over the scored tokens of `batch`; forward only.
    public func crossEntropyLoss(_ batch: TokenBatch) throws -> Float {
        let lp = try tokenLogProbs(batch, keepingActivations: false)
        let all = lp.logProbs.flatMap { $0 }
        return all.isEmpty ? 0 : -all.reduce(0, +) / Float(all.count)
    }

    /// Mean next-token cross-entropy over the scored tokens (e.g. assistant tokens in SFT),
    /// with its gradient accumulated into `gradients`. Returns the loss.
    public func crossEntropyLossAndBackward(_ batch: TokenBatch) throws -> Float {
        let lp = try tokenLogProbs(batch)
        let n = lp.logProbs.reduce(0) { $0 + $1.count }
        guard n > 0 else { return 0 }
        let total = lp.logProbs.reduce(Float(0)) { $0 + $1.reduce(0, +) }
        let g = -1 / Float(n)
        try backward(batch, dLogProbs: lp.logProbs.map { [Float](repeating: g, count: $0.count) })
        return -total / Float(n)
    }
}
