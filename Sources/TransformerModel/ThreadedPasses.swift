import CBLAS
import Foundation

// Forward and backward over a batch split across threads: each thread packs and runs its own
// contiguous run of sequences (a GRPO group sharing a prompt stays in one part) in its own
// activations; thread i > 0 accumulates into its own gradient buffer, and the buffers are added
// into `gradients` in part order afterwards, so the sum is the same on every run.

/// One thread's buffers.
final class ThreadPart {
    /// Training activations (every layer) and forward-only activations (one layer slot).
    var training: Activations?, inference: Activations?
    /// This part's gradients (parts after the first), laid out like `Transformer.gradients`.
    private(set) var gradients: FloatPtr?

    deinit { if let gradients { free(gradients) } }

    /// The buffer for `b` (every layer when `keeping`), grown with headroom when `b` does not fit.
    func activations(_ config: ModelConfig, for b: PackedBatch, keeping: Bool) -> Activations {
        let layers = keeping ? config.nLayers : 1
        if let a = keeping ? training : inference, a.fits(b, layers: layers) { return a }
        let growing = (keeping ? training : inference) != nil
        if keeping { training = nil } else { inference = nil }
        let a = Activations(config: config, for: b, layers: layers, growing: growing)
        if keeping { training = a } else { inference = a }
        return a
    }

    /// Zeroed gradients of `count` floats.
    func zeroedGradients(_ count: Int) -> FloatPtr {
        if let gradients { memset(gradients, 0, count * MemoryLayout<Float>.stride); return gradients }
        let g = allocateFloats(count)
        gradients = g
        return g
    }
}

/// A batch split into contiguous runs of sequences, one per thread, each packed on its own.
struct BatchSplit {
    /// Sequence indices of each part, in order.
    var ranges: [Range<Int>]
    var packed: [PackedBatch]
    /// Scored tokens per sequence of the whole batch.
    var scoredPerSequence: [Int] { packed.flatMap(\.scoredPerSequence) }
}

/// Extra per-thread gradient buffers allowed for a training pass (bytes). A model too large for
/// them trains as one part, with OpenBLAS threading its matmuls instead.
let threadGradientBudget = 1 << 30

extension Transformer {
    /// `batch` (validated) split for this model's `threads`: into at most `threads` parts of
    /// near-equal rows, whole prompt groups each; one part when there is one group, or when
    /// training and the per-thread gradient buffers would exceed `threadGradientBudget`.
    func split(_ batch: TokenBatch, keeping: Bool) throws -> BatchSplit {
        let whole = try PackedBatch(batch, config: config)
        let n = batch.sequences.count
        var parts = threads
        if keeping && (parts - 1) * layout.totalCount * MemoryLayout<Float>.stride > threadGradientBudget { parts = 1 }
        let sharing = batch.sharedPromptLengths.map { PackedBatch.isPromptCompletion(batch, promptLengths: $0) } ?? false
        // Units: one sequence, or a run of sequences sharing one prompt (packed together).
        var units: [Range<Int>] = [], start = 0
        for i in 1..<(n + 1) where i == n || !sharing || !samePrompt(batch, i - 1, i) {
            units.append(start..<i); start = i
        }
        guard parts > 1, units.count > 1 else { return BatchSplit(ranges: [0..<n], packed: [whole]) }
        let groups = ModelThreads.split(units.count, parts: parts) { u in
            units[u].reduce(0) { $0 + batch.sequences[$1].count }
        }
        var split = BatchSplit(ranges: [], packed: [])
        for g in groups {
            let r = units[g.lowerBound].lowerBound..<units[g.upperBound - 1].upperBound
            var sub = TokenBatch(sequences: Array(batch.sequences[r]), lossMask: Array(batch.lossMask[r]))
            sub.sharedPromptLengths = sharing ? batch.sharedPromptLengths.map { Array($0[r]) } : nil
            sub.temperature = batch.temperature
            split.ranges.append(r)
            split.packed.append(try PackedBatch(sub, config: config))
        }
        return split
    }

    /// Whether sequences `i` and `j` start with the same shared prompt.
    private func samePrompt(_ b: TokenBatch, _ i: Int, _ j: Int) -> Bool {
        guard let P = b.sharedPromptLengths, P[i] == P[j] else { return false }
        return b.sequences[i][..<P[i]].elementsEqual(b.sequences[j][..<P[j]])
    }

    /// The buffers of parts `0..<count`.
    func threadParts(_ count: Int) -> [ThreadPart] {
        while parts.count < count { parts.append(ThreadPart()) }
        return Array(parts.prefix(count))
    }

    /// Forward (and the head) over every part: per part, `(logp, entropy)` of its scored tokens.
    func forwardParts(_ split: BatchSplit, keeping: Bool) -> [(logp: [Float], entropy: [Float])] {
        let buffers = threadParts(split.packed.count)
        let out = split.packed.map { PartOutput(count: $0.predRows.count) }
        withBLASThreads(split.packed.count == 1 ? threads : 1) {
            ModelThreads.run(split.packed.count) { i in
                let b = split.packed[i], a = buffers[i].activations(config, for: b, keeping: keeping)
                forwardBody(b, a)
                out[i].logp.withUnsafeMutableBufferPointer { lp in
                    out[i].entropy.withUnsafeMutableBufferPointer { en in
                        headForward(b, a, logp: lp.baseAddress!, entropy: en.baseAddress!)
                    }
                }
            }
        }
        return out.map { ($0.logp, $0.entropy) }
    }

    /// Backward over every part, from the per-sequence `dLogProbs` of the whole batch; adds the
    /// gradients into `gradients` (part 0 directly, the others reduced in part order).
    func backwardParts(_ split: BatchSplit, dLogProbs: [[Float]]) {
        let k = split.packed.count, total = layout.totalCount
        let buffers = threadParts(k)
        withBLASThreads(k == 1 ? threads : 1) {
            ModelThreads.run(k) { i in
                let b = split.packed[i], a = buffers[i].training!
                let g = i == 0 ? gradients.baseAddress! : buffers[i].zeroedGradients(total)
                let flat = dLogProbs[split.ranges[i]].flatMap { $0 }
                flat.withUnsafeBufferPointer { headBackward(b, a, dlogp: $0.baseAddress!, grad: g) }
                backwardBody(b, a, grad: g)
            }
        }
        guard k > 1 else { return }
        // gradients[j] += part 1's [j] + part 2's [j] + …: the same order whatever the slicing.
        let slices = ModelThreads.evenRanges(total, parts: k)
        let g = gradients.baseAddress!
        ModelThreads.run(slices.count) { s in
            let r = slices[s]
            for i in 1..<k { addInPlace(g + r.lowerBound, buffers[i].gradients! + r.lowerBound, r.count) }
        }
    }
}

/// One part's per-token outputs, written by its thread only.
private final class PartOutput {
    var logp: [Float], entropy: [Float]
    init(count: Int) { logp = [Float](repeating: 0, count: count); entropy = logp }
}

/// Runs `body` with OpenBLAS on `n` threads (a pass that the pool cannot split, so BLAS
/// parallelises its matmuls instead), then back on one.
func withBLASThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
    _ = blasSingleThreaded
    guard n > 1 else { return try body() }
    openblas_set_num_threads(Int32(n))
    defer { openblas_set_num_threads(1) }
    return try body()
}
