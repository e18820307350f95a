import Foundation

/// Keys and values of every layer for a set of sequences ("slots"), as RoPE'd k and plain v:
/// `k, v [nLayers, slots, capacity, kvDim]`.
final class KVCache {
    let slots: Int, capacity: Int, nLayers: Int, kvDim: Int
    let k: FloatPtr, v: FloatPtr

    init(config: ModelConfig, slots: Int, capacity: Int) {
        self.slots = slots; self.capacity = capacity; nLayers = config.nLayers
        kvDim = config.nKVHeads * config.headDim
        k = allocateFloats(nLayers * slots * capacity * kvDim)
        v = allocateFloats(nLayers * slots * capacity * kvDim)
    }

    deinit { free(k); free(v) }

    /// Offset of `(layer, slot, position)`.
    @inline(__always)
    func offset(_ layer: Int, _ slot: Int, _ pos: Int) -> Int { ((layer * slots + slot) * capacity + pos) * kvDim }

    /// Copies positions `0..<count` of slot `src` into slot `dst`, in every layer
    /// (the G completions of a prompt share its prefilled cache).
    func copy(slot src: Int, to dst: Int, count: Int) {
        for l in 0..<nLayers {
            (k + offset(l, dst, 0)).update(from: k + offset(l, src, 0), count: count * kvDim)
            (v + offset(l, dst, 0)).update(from: v + offset(l, src, 0), count: count * kvDim)
        }
    }
}

/// Work buffers of a cached forward step over up to `rows` rows.
final class DecodeScratch {
    let rows: Int
    let x: FloatPtr, xn: FloatPtr, rstd: FloatPtr, qkv: FloatPtr, qk: FloatPtr, rstdQ: FloatPtr, rstdK: FloatPtr
    let att: FloatPtr, gateUp: FloatPtr, act: FloatPtr, scores: FloatPtr, logits: FloatPtr, probs: FloatPtr
    private var all: [FloatPtr] = []

    init(config c: ModelConfig, rows M: Int, logitRows: Int, capacity: Int) {
        rows = M
        let qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim
        x = allocateFloats(M * c.dim); xn = allocateFloats(M * c.dim); rstd = allocateFloats(M)
        qkv = allocateFloats(M * (qDim + 2 * kvDim)); qk = allocateFloats(M * (qDim + kvDim))
        rstdQ = allocateFloats(M * c.nHeads); rstdK = allocateFloats(M * c.nKVHeads)
        att = allocateFloats(M * qDim); gateUp = allocateFloats(M * 2 * c.ffnDim); act = allocateFloats(M * c.ffnDim)
        scores = allocateFloats(capacity); logits = allocateFloats(logitRows * c.vocabSize)
        probs = allocateFloats(c.vocabSize)
        all = [x, xn, rstd, qkv, qk, rstdQ, rstdK, att, gateUp, act, scores, logits, probs]
    }

    deinit { for p in all { free(p) } }
}

/// `Σᵢ a[i]·b[i]`, eight lanes at a time (plain SSE multiply/add, no FMA call).
@inline(__always)
func dotProduct(_ a: ConstFloatPtr, _ b: ConstFloatPtr, _ n: Int) -> Float {
    var acc = SIMD8<Float>(), i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// `y[i] += alpha · x[i]`, eight lanes at a time.
@inline(__always)
func addScaled(_ y: FloatPtr, _ x: ConstFloatPtr, _ alpha: Float, _ n: Int) {
    var i = 0
    let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x), va = SIMD8<Float>(repeating: alpha)
    while i + 8 <= n {
        let r = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            + va * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        ry.storeBytes(of: r, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

extension Transformer {
    /// One cached forward step over `M` rows: row r is token `tokens[r]` at position `positions[r]`
    /// of cache slot `slots[r]`. Writes each row's k and v into the cache, then attends over
    /// positions `0...positions[r]` of its slot (so a whole prompt can be prefilled in one step).
    /// Leaves `s.logits [logitRows.count, V]` for the rows listed in `logitRows` (increasing).
    func cachedStep(tokens: [Int32], slots: [Int32], positions: [Int32], logitRows: [Int],
                    cache: KVCache, s: DecodeScratch) {
        let c = config, M = tokens.count, d = dim, F = c.ffnDim, hd = c.headDim
        let p = parameters.baseAddress!
        let scale = 1 / Float(hd).squareRoot(), group = c.nHeads / c.nKVHeads
        tokens.withUnsafeBufferPointer { embeddingForward(out: s.x, tokens: $0.baseAddress!, weight: p + embedOffset, N: M, C: d) }
        positions.withUnsafeBufferPointer { posBuf in
            let pos = posBuf.baseAddress!
            for l in 0..<c.nLayers {
                let w = layers[l]
                // xn [M, d] = rmsnorm(x);  qkv [M, qkvDim];  qk = rope(qk_norm(q|k))
                rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + w.norm1, N: M, C: d, eps: c.normEps)
                qkvForward(qkv: s.qkv, xn: s.xn, N: M, w: w)
                qkNormForward(qk: s.qk, qkv: s.qkv, rstdQ: s.rstdQ, rstdK: s.rstdK, N: M, w: w)
                ropeForward(s.qk, ld: qkDim, N: M, heads: c.nHeads, headDim: hd, positions: pos, table: rope)
                ropeForward(s.qk + qDim, ld: qkDim, N: M, heads: c.nKVHeads, headDim: hd, positions: pos, table: rope)
                // cache[l, slot, pos] = (k, v)
                for r in 0..<M {
                    let o = cache.offset(l, Int(slots[r]), Int(pos[r]))
                    (cache.k + o).update(from: s.qk + r * qkDim + qDim, count: kvDim)
                    (cache.v + o).update(from: s.qkv + r * qkvDim + qDim + kvDim, count: kvDim)
                }
                // att [M, qDim]: each row attends over its slot's positions 0...pos
                for r in 0..<M {
                    let n = Int(pos[r]) + 1, base = cache.offset(l, Int(slots[r]), 0)
                    for h in 0..<c.nHeads {
                        let g = h / group, q = s.qk + r * qkDim + h * hd
                        let kb = cache.k + base + g * hd, vb = cache.v + base + g * hd
                        var mx = -Float.infinity
                        for j in 0..<n {
                            let sc = dotProduct(q, kb + j * kvDim, hd) * scale
                            s.scores[j] = sc; mx = max(mx, sc)
                        }
                        var sum: Float = 0
                        for j in 0..<n { let e = expf(s.scores[j] - mx); s.scores[j] = e; sum += e }
                        let out = s.att + r * qDim + h * hd, inv = 1 / sum
                        memset(out, 0, hd * MemoryLayout<Float>.stride)
                        for j in 0..<n { addScaled(out, vb + j * kvDim, s.scores[j] * inv, hd) }
                    }
                }
                // x += att · Woᵀ ;  x += down(silu(gate) ⊙ up) of rmsnorm(x)
                linearForward(out: s.x, ldOut: d, inp: s.att, ldInp: qDim, weight: p + w.wo, bias: nil,
                              N: M, I: qDim, O: d, beta: 1)
                rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + w.norm2, N: M, C: d, eps: c.normEps)
                linearForward(out: s.gateUp, ldOut: 2 * F, inp: s.xn, ldInp: d, weight: p + w.wGateUp, bias: nil,
                              N: M, I: d, O: 2 * F)
                swigluForward(out: s.act, gateUp: s.gateUp, N: M, F: F)
                linearForward(out: s.x, ldOut: d, inp: s.act, ldInp: F, weight: p + w.wDown, bias: nil,
                              N: M, I: F, O: d, beta: 1)
            }
        }
        // logits [R, V] = rmsnorm(x[logitRows]) · Wheadᵀ
        let R = logitRows.count
        for (i, r) in logitRows.enumerated() where i != r { (s.x + i * d).update(from: s.x + r * d, count: d) }
        rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + finalNormOffset, N: R, C: d, eps: c.normEps)
        gemm(transB: true, m: R, n: c.vocabSize, k: d, a: s.xn, lda: d, b: p + headOffset, ldb: d,
             beta: 0, c: s.logits, ldc: c.vocabSize)
    }
}
