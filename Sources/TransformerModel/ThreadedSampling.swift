import Foundation

// Sampling split across threads, two ways. A step with few rows per thread (a decode step:
// fewer than `columnSplitRows` rows a thread) runs once over all rows, its linear maps split by
// output columns and its attention by rows (`cachedStep(parts:)`), so each thread packs only its
// slice of the weights. A larger step (the prefill) is cut into contiguous runs of sequences, one
// per thread; each part runs the cached forward step over its own rows in its own scratch (rows
// of different sequences never read each other's cache entries). Either way each thread then
// draws the next tokens of its rows. The uniforms are drawn from the generator beforehand, in
// row order, so the tokens do not depend on which thread ran which row.

/// One row of a cached step: a token at a position of a cache slot, after a prefix of the shared
/// prompt cache (`prefixLength` 0: none).
struct DecodeRow {
    var token: Int32, slot: Int32, position: Int32, prefixSlot: Int32 = 0, prefixLength: Int32 = 0
}

/// The scratch of each part and the step's weights, kept across the steps of one `sample` call.
final class DecodeScratchPool {
    let config: ModelConfig, capacity: Int, weights: DecodeWeights
    private(set) var scratch: [DecodeScratch] = []

    init(config: ModelConfig, capacity: Int, weights: DecodeWeights) {
        self.config = config; self.capacity = capacity; self.weights = weights
    }

    /// Makes part j's scratch hold `rows[j]` rows and `logitRows[j]` logit rows, for a step split
    /// `parts` ways (call before the parallel region).
    func reserve(rows: [Int], logitRows: [Int], parts: Int = 1) {
        for j in rows.indices {
            if j < scratch.count, scratch[j].rows >= rows[j], scratch[j].logitRows >= logitRows[j],
               scratch[j].parts >= parts { continue }
            let s = DecodeScratch(config: config, rows: rows[j], logitRows: logitRows[j], capacity: capacity, parts: parts)
            if j < scratch.count { scratch[j] = s } else { scratch.append(s) }
        }
    }
}

extension Transformer {
    /// One cached step over `units` (a unit: a few rows of one sequence, whose last row gets
    /// logits). With `threads > 1` it is split by columns when it has fewer than
    /// `columnSplitRows · threads` rows, otherwise into `threads` contiguous runs of units by
    /// their row counts. `pick(unit, logits [V], probs scratch [V])` is then called once per unit,
    /// concurrently for different units.
    func parallelCachedStep(units: [[DecodeRow]], cache: KVCache, prefixCache: KVCache?,
                            pool: DecodeScratchPool, pick: (Int, ConstFloatPtr, FloatPtr) -> Void) {
        let rows = units.reduce(0) { $0 + $1.count }
        if threads > 1 && rows < columnSplitRows * threads {
            columnSplitStep(units: units, rows: rows, cache: cache, prefixCache: prefixCache, pool: pool, pick: pick)
            return
        }
        let ranges = ModelThreads.split(units.count, parts: threads) { units[$0].count }
        pool.reserve(rows: ranges.map { r in units[r].reduce(0) { $0 + $1.count } }, logitRows: ranges.map(\.count))
        let V = config.vocabSize
        ModelThreads.run(ranges.count) { j in
            var tokens: [Int32] = [], slots: [Int32] = [], positions: [Int32] = [], logitRows: [Int] = []
            var prefixSlots: [Int32] = [], prefixLengths: [Int32] = []
            for u in ranges[j] {
                for row in units[u] {
                    tokens.append(row.token); slots.append(row.slot); positions.append(row.position)
                    prefixSlots.append(row.prefixSlot); prefixLengths.append(row.prefixLength)
                }
                logitRows.append(tokens.count - 1)
            }
            let s = pool.scratch[j]
            let prefix = prefixCache.map { CachePrefix(cache: $0, slots: prefixSlots, lengths: prefixLengths) }
            cachedStep(tokens: tokens, slots: slots, positions: positions, logitRows: logitRows,
                       cache: cache, prefix: prefix, s: s, weights: pool.weights)
            for (i, u) in ranges[j].enumerated() { pick(u, s.logits + i * V, s.probs) }
        }
    }

    /// The column split: one step over every row on `threads` threads, then the picks split by units.
    private func columnSplitStep(units: [[DecodeRow]], rows: Int, cache: KVCache, prefixCache: KVCache?,
                                 pool: DecodeScratchPool, pick: (Int, ConstFloatPtr, FloatPtr) -> Void) {
        pool.reserve(rows: [rows], logitRows: [units.count], parts: threads)
        var tokens: [Int32] = [], slots: [Int32] = [], positions: [Int32] = [], logitRows: [Int] = []
        var prefixSlots: [Int32] = [], prefixLengths: [Int32] = []
        for unit in units {
            for row in unit {
                tokens.append(row.token); slots.append(row.slot); positions.append(row.position)
                prefixSlots.append(row.prefixSlot); prefixLengths.append(row.prefixLength)
            }
            logitRows.append(tokens.count - 1)
        }
        let s = pool.scratch[0], V = config.vocabSize
        let prefix = prefixCache.map { CachePrefix(cache: $0, slots: prefixSlots, lengths: prefixLengths) }
        cachedStep(tokens: tokens, slots: slots, positions: positions, logitRows: logitRows,
                   cache: cache, prefix: prefix, s: s, weights: pool.weights, parts: threads)
        let ranges = ModelThreads.evenRanges(units.count, parts: threads)
        ModelThreads.run(ranges.count) { j in
            for u in ranges[j] { pick(u, s.logits + u * V, s.probs + j * V) }
        }
    }
}
