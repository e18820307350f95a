import Foundation
import TransformerModel

/// What one policy update did: the loss of its first iteration and the averages over all of them.
struct UpdateResult {
    /// The first iteration's loss output (nil when the batch had no sequences).
    var loss: PolicyLossOutput?
    /// Mean token entropy of the first iteration.
    var entropy = 0.0
    /// The last iteration's gradient norm.
    var gradNorm = 0.0
    /// Clip ratios, averaged over the `num_iterations` iterations.
    var clipLow = 0.0, clipHigh = 0.0, clipRegion = 0.0
    var learningRate: Double
    var seconds = 0.0
}

extension Trainer {
    /// One GRPO update on the batch: group-relative advantages, then `num_iterations` optimizer
    /// steps over micro-batches of at most `micro_batch_size` sequences (an exact full-batch
    /// gradient). Failed and abstained samples, and truncated ones under
    /// `mask_truncated_completions`, get no loss.
    func update(_ rollouts: Rollouts) throws -> UpdateResult {
        let h = hyperparameters
        let batch = rollouts.batch
        let batchRewards = batch.flatMap { rewards(of: $0, rollouts.outcomes) }
        let adv = Advantages.compute(rewards: batchRewards, groupSize: h.numGenerations, scale: h.scaleRewards)
        var seqs: [PolicySequence] = [], masks: [[Float]] = []
        // π_old from the sampler, kept only when the batch is reused (μ > 1) and every completion has it.
        var sampledLogp: [[Float]]? = h.numIterations > 1 ? [] : nil
        var i = 0
        for g in batch {
            for c in g.completions {
                seqs.append(PolicySequence(prompt: g.prompt, completion: c.tokens))
                if let l = c.logProbs, l.count == c.tokens.count { sampledLogp?.append(l) } else { sampledLogp = nil }
                let off = adv[i] == nil || (h.maskTruncatedCompletions && c.truncated)
                masks.append([Float](repeating: off ? 0 : 1, count: c.tokens.count))
                i += 1
            }
        }
        let started = now()
        let lr = Double(LRSchedule(peak: Float(h.learningRate), warmupSteps: h.warmupSteps, totalSteps: totalSteps,
                                   decay: h.lrScheduler).learningRate(at: state.step))
        var result = UpdateResult(learningRate: lr)
        if !seqs.isEmpty {
            // Whole groups stay together, so each group's prompt is computed once.
            let chunks = Self.microBatches(groupSizes: batch.map(\.completions.count), limit: h.microBatchSize)
            // π_old is only needed when the batch is reused (μ > 1); the reference only when β > 0.
            // The sampler's own log-probs are π_old when it reported them (same model, same temperature).
            let old = h.numIterations > 1 ? try sampledLogp ?? chunks.flatMap { try policy.logProbs(Array(seqs[$0])) } : nil
            let ref = try reference.map { r in try chunks.flatMap { try r.logProbs(Array(seqs[$0])) } }
            let settings = PolicyLossSettings(h)
            let totals = BatchTotals(masks: masks)
            for iteration in 0..<h.numIterations {
                var parts: [PolicyLossOutput] = []
                var entropySum = 0.0, entropyTokens = 0
                for range in chunks {
                    let pass = try policy.accumulateGradients(Array(seqs[range])) { logp in
                        let inputs = range.enumerated().map { k, j in
                            SequenceLossInput(logp: logp[k], oldLogp: old?[j], refLogp: ref?[j], mask: masks[j],
                                              advantage: Float(adv[j] ?? 0))
                        }
                        let out = PolicyLoss.compute(inputs, settings: settings, totals: totals)
                        parts.append(out)
                        return out.dLogp
                    }
                    let n = range.reduce(0) { $0 + seqs[$1].completion.count }
                    entropySum += pass.entropy * Double(n); entropyTokens += n
                }
                let out = PolicyLossOutput.merge(parts)
                if iteration == 0 {
                    result.loss = out
                    result.entropy = entropyTokens > 0 ? entropySum / Double(entropyTokens) : 0
                }
                result.clipLow += out.clipLow; result.clipHigh += out.clipHigh; result.clipRegion += out.clipRegion
                result.gradNorm = try policy.applyGradients(learningRate: lr)
            }
        }
        let mu = Double(h.numIterations)
        result.clipLow /= mu; result.clipHigh /= mu; result.clipRegion /= mu
        result.seconds = now() - started
        return result
    }

    /// Ranges of sequences, at most `limit` long, made of whole consecutive groups; a group
    /// longer than `limit` is split (its prompt is then computed once per piece).
    static func microBatches(groupSizes: [Int], limit: Int) -> [Range<Int>] {
        var chunks: [Range<Int>] = [], start = 0, end = 0
        for size in groupSizes {
            if end - start + size > limit, end > start { chunks.append(start..<end); start = end }
            end += size
            while end - start > limit { chunks.append(start..<(start + limit)); start += limit }
        }
        if end > start { chunks.append(start..<end) }
        return chunks
    }
}
