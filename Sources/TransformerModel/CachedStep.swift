import CKernels
import Foundation

// The forward pass of sampling: a batch of rows through every layer over the KV cache.

extension Transformer {
    /// One cached forward step over `M` rows: row r is token `tokens[r]` at position `positions[r]`
    /// of its sequence. With a `prefix`, positions `0..<prefix.lengths[r]` come from the shared
    /// prefix cache and the row's own entries start at index 0 of `cache` slot `slots[r]`.
    /// Each row's k and v are written first, then every row attends over all its positions up to
    /// its own, so a whole prompt can be prefilled in one step.
    /// Leaves `s.logits [logitRows.count, V]` for the rows listed in `logitRows` (increasing).
    /// The linear maps read `packed` weights when given (`PackedWeights`), else run on OpenBLAS.
    func cachedStep(tokens: [Int32], slots: [Int32], positions: [Int32], logitRows: [Int],
                    cache: KVCache, prefix: CachePrefix? = nil, s: DecodeScratch, packed: PackedWeights? = nil) {
        let c = config, M = tokens.count, d = dim, F = c.ffnDim, hd = c.headDim
        let p = parameters.baseAddress!
        let scale = 1 / Float(hd).squareRoot(), group = c.nHeads / c.nKVHeads
        // Per-row cache coordinates as raw Int32 buffers (no array traffic in the loops).
        let prefixCache = prefix?.cache
        for r in 0..<M {
            s.slot[r] = slots[r]
            s.prefixSlot[r] = prefix?.slots[r] ?? 0
            s.prefixLength[r] = prefix?.lengths[r] ?? 0
        }
        tokens.withUnsafeBufferPointer { embeddingForward(out: s.x, tokens: $0.baseAddress!, weight: p + embedOffset, N: M, C: d) }
        positions.withUnsafeBufferPointer { posBuf in
            let pos = posBuf.baseAddress!
            for l in 0..<c.nLayers {
                let w = layers[l]
                // xn [M, d] = rmsnorm(x);  qkv [M, qkvDim];  qk = rope(qk_norm(q|k))
                rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + w.norm1, N: M, C: d, eps: c.normEps)
                qkvForward(qkv: s.qkv, xn: s.xn, N: M, w: w, packed: packed)
                qkNormForward(qk: s.qk, qkv: s.qkv, rstdQ: s.rstdQ, rstdK: s.rstdK, N: M, w: w)
                ropeForward(s.qk, ld: qkDim, N: M, heads: c.nHeads, headDim: hd, positions: pos, table: rope)
                ropeForward(s.qk + qDim, ld: qkDim, N: M, heads: c.nKVHeads, headDim: hd, positions: pos, table: rope)
                // cache[l, slot, g, own index] = (k, v) of kv head g
                for r in 0..<M {
                    let own = Int(pos[r]) - Int(s.prefixLength[r]), slot = Int(s.slot[r])
                    for g in 0..<c.nKVHeads {
                        (cache.keys(l, slot, g) + own * hd).update(from: s.qk + r * qkDim + qDim + g * hd, count: hd)
                        (cache.values(l, slot, g) + own * hd).update(from: s.qkv + r * qkvDim + qDim + kvDim + g * hd, count: hd)
                    }
                }
                // att [M, qDim]: each row attends over its prefix positions, then its own 0...own
                for r in 0..<M {
                    let n0 = Int(s.prefixLength[r]), n1 = Int(pos[r]) - n0 + 1, slot = Int(s.slot[r])
                    for h in 0..<c.nHeads {
                        let g = h / group, q = s.qk + r * qkDim + h * hd
                        let kb = cache.keys(l, slot, g), vb = cache.values(l, slot, g)
                        let pk = prefixCache?.keys(l, Int(s.prefixSlot[r]), g)
                        let pv = prefixCache?.values(l, Int(s.prefixSlot[r]), g)
                        // softmax(scale · q·k) · v over [prefix keys ; own keys] (CKernels)
                        rft_attend(s.att + r * qDim + h * hd, q, pk ?? kb, pv ?? vb, pk == nil ? 0 : Int32(n0),
                                   kb, vb, Int32(n1), Int32(hd), scale, s.scores)
                    }
                }
                // x += att · Woᵀ ;  x += down(silu(gate) ⊙ up) of rmsnorm(x)
                decodeLinear(out: s.x, ldOut: d, inp: s.att, ldInp: qDim, offset: w.wo, N: M, I: qDim, O: d, beta: 1, packed: packed)
                rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + w.norm2, N: M, C: d, eps: c.normEps)
                decodeLinear(out: s.gateUp, ldOut: 2 * F, inp: s.xn, ldInp: d, offset: w.wGateUp, N: M, I: d, O: 2 * F, packed: packed)
                rft_swiglu(s.act, s.gateUp, Int32(M), Int32(F))
                decodeLinear(out: s.x, ldOut: d, inp: s.act, ldInp: F, offset: w.wDown, N: M, I: F, O: d, beta: 1, packed: packed)
            }
        }
        // logits [R, V] = rmsnorm(x[logitRows]) · Wheadᵀ
        let R = logitRows.count
        for (i, r) in logitRows.enumerated() where i != r { (s.x + i * d).update(from: s.x + r * d, count: d) }
        rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + finalNormOffset, N: R, C: d, eps: c.normEps)
        decodeLinear(out: s.logits, ldOut: c.vocabSize, inp: s.xn, ldInp: d, offset: headOffset, N: R, I: d, O: c.vocabSize,
                     packed: packed)
    }
}
