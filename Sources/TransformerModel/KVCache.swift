import Foundation

/// Keys and values of every layer for a set of sequences ("slots"), as RoPE'd k and plain v:
/// `kv [nLayers, slots, nKVHeads, 2, capacity, headDim]`: one head's keys are contiguous and
/// followed by its values, so a decode step streams through one block per head.
final class KVCache {
    let slots: Int, capacity: Int, nLayers: Int, nKVHeads: Int, headDim: Int
    let kv: FloatPtr

    init(config: ModelConfig, slots: Int, capacity: Int) {
        self.slots = slots; self.capacity = capacity; nLayers = config.nLayers
        nKVHeads = config.nKVHeads; headDim = config.headDim
        kv = allocateFloats(nLayers * slots * nKVHeads * 2 * capacity * headDim, zeroed: false)
    }

    deinit { free(kv) }

    /// Keys of `(layer, slot, kv head)`: `[capacity, headDim]`.
    @inline(__always)
    func keys(_ layer: Int, _ slot: Int, _ head: Int) -> FloatPtr {
        kv + ((layer * slots + slot) * nKVHeads + head) * 2 * capacity * headDim
    }

    /// Values of `(layer, slot, kv head)`: `[capacity, headDim]`.
    @inline(__always)
    func values(_ layer: Int, _ slot: Int, _ head: Int) -> FloatPtr { keys(layer, slot, head) + capacity * headDim }
}

/// A shared, read-only prefix for the rows of a cached step: row r continues slot `slots[r]`
/// of `cache`, whose first `lengths[r]` positions it attends to before its own.
/// The G completions of a prompt all read the prompt's single prefilled entry.
struct CachePrefix {
    let cache: KVCache
    let slots: [Int32]
    let lengths: [Int32]
}

/// Work buffers of a cached forward step over up to `rows` rows.
final class DecodeScratch {
    let rows: Int, logitRows: Int
    let x: FloatPtr, xn: FloatPtr, rstd: FloatPtr, qkv: FloatPtr, qk: FloatPtr, rstdQ: FloatPtr, rstdK: FloatPtr
    let att: FloatPtr, gateUp: FloatPtr, act: FloatPtr, scores: FloatPtr, logits: FloatPtr, probs: FloatPtr
    /// Per row: cache slot, prefix slot and prefix length.
    let slot: UnsafeMutablePointer<Int32>, prefixSlot: UnsafeMutablePointer<Int32>, prefixLength: UnsafeMutablePointer<Int32>
    private var all: [FloatPtr] = []

    init(config c: ModelConfig, rows M: Int, logitRows: Int, capacity: Int) {
        rows = M; self.logitRows = logitRows
        let qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim
        x = allocateFloats(M * c.dim); xn = allocateFloats(M * c.dim); rstd = allocateFloats(M)
        qkv = allocateFloats(M * (qDim + 2 * kvDim)); qk = allocateFloats(M * (qDim + kvDim))
        rstdQ = allocateFloats(M * c.nHeads); rstdK = allocateFloats(M * c.nKVHeads)
        att = allocateFloats(M * qDim); gateUp = allocateFloats(M * 2 * c.ffnDim); act = allocateFloats(M * c.ffnDim)
        scores = allocateFloats(capacity); logits = allocateFloats(logitRows * c.vocabSize)
        probs = allocateFloats(c.vocabSize)
        all = [x, xn, rstd, qkv, qk, rstdQ, rstdK, att, gateUp, act, scores, logits, probs]
        slot = .allocate(capacity: M); prefixSlot = .allocate(capacity: M); prefixLength = .allocate(capacity: M)
    }

    deinit {
        for p in all { free(p) }
        slot.deallocate(); prefixSlot.deallocate(); prefixLength.deallocate()
    }
}
