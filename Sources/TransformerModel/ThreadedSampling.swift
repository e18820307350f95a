import Foundation

// Sampling split across sequences: each decode step's rows (or the prefill's prompts) are cut
// into contiguous parts, one per thread; each part runs the cached forward step over its own rows
// in its own scratch (rows of different sequences never read each other's cache entries) and
// draws its rows' next tokens. The uniforms are drawn from the generator beforehand, in row
// order, so the tokens do not depend on which thread ran which row.

/// One row of a cached step: a token at a position of a cache slot, after a prefix of the shared
/// prompt cache (`prefixLength` 0: none).
struct DecodeRow {
    var token: Int32, slot: Int32, position: Int32, prefixSlot: Int32 = 0, prefixLength: Int32 = 0
}

/// The scratch of each part, kept across the steps of one `sample` call.
final class DecodeScratchPool {
    let config: ModelConfig, capacity: Int
    private(set) var scratch: [DecodeScratch] = []
    /// The weights packed for this call's steps (nil: OpenBLAS packs them at every product).
    let packed: PackedWeights?

    init(config: ModelConfig, capacity: Int, packed: PackedWeights? = nil) {
        self.config = config; self.capacity = capacity; self.packed = packed
    }

    /// Makes part j's scratch hold `rows[j]` rows and `logitRows[j]` logit rows (call before the parallel region).
    func reserve(rows: [Int], logitRows: [Int]) {
        for j in rows.indices {
            if j < scratch.count, scratch[j].rows >= rows[j], scratch[j].logitRows >= logitRows[j] { continue }
            let s = DecodeScratch(config: config, rows: rows[j], logitRows: logitRows[j], capacity: capacity)
            if j < scratch.count { scratch[j] = s } else { scratch.append(s) }
        }
    }
}

extension Transformer {
    /// One cached step over `units` (a unit: a few rows of one sequence, whose last row gets
    /// logits), split into `parts` contiguous runs by `weight`. On part j's thread, after its
    /// step, `pick(unit, logits [V], probs scratch [V])` is called for each of its units in order.
    func parallelCachedStep(units: [[DecodeRow]], cache: KVCache, prefixCache: KVCache?,
                            pool: DecodeScratchPool, pick: (Int, ConstFloatPtr, FloatPtr) -> Void) {
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
                       cache: cache, prefix: prefix, s: s, packed: pool.packed)
            for (i, u) in ranges[j].enumerated() { pick(u, s.logits + i * V, s.probs) }
        }
    }
}
