import Foundation

// The forward pass of sampling: a batch of rows through every layer over the KV cache.

extension Transformer {
    /// One cached forward step over `M` rows: row r is token `tokens[r]` at position `positions[r]`
    /// of its sequence. With a `prefix`, positions `0..<prefix.lengths[r]` come from the shared
    /// prefix cache and the row's own entries start at index 0 of `cache` slot `slots[r]`.
    /// Each row's k and v are written first, then every row attends over all its positions up to
    /// its own, so a whole prompt can be prefilled in one step.
    /// Leaves `s.logits [logitRows.count, V]` for the rows listed in `logitRows` (increasing).
    ///
    /// `parts > 1` (at most `s.parts`) splits the step across that many threads: every linear map
    /// by output columns (each thread packs only its slice of the weights), the attention by rows.
    /// `weights` (default: the parameters read in place) are the step's matrices.
    func cachedStep(tokens: [Int32], slots: [Int32], positions: [Int32], logitRows: [Int],
                    cache: KVCache, prefix: CachePrefix? = nil, s: DecodeScratch,
                    weights: DecodeWeights? = nil, parts: Int = 1) {
        let c = config, M = tokens.count, d = dim, F = c.ffnDim
        let p = parameters.baseAddress!
        let wts = weights ?? DecodeWeights(self)
        let parts = min(parts, s.parts)
        // Per-row cache coordinates as raw Int32 buffers (no array traffic in the loops).
        for r in 0..<M {
            s.slot[r] = slots[r]
            s.prefixSlot[r] = prefix?.slots[r] ?? 0
            s.prefixLength[r] = prefix?.lengths[r] ?? 0
        }
        tokens.withUnsafeBufferPointer { embeddingForward(out: s.x, tokens: $0.baseAddress!, weight: p + embedOffset, N: M, C: d) }
        // Row ranges for the attention; a sequence's rows stay in one range (a prefilled row reads
        // the cache entries of the rows before it, written in the same range).
        var bounds = ModelThreads.evenRanges(M, parts: parts).map(\.upperBound)
        for i in bounds.indices { while bounds[i] < M && slots[bounds[i]] == slots[bounds[i] - 1] { bounds[i] += 1 } }
        let rowRanges = zip([0] + bounds, bounds).filter { $0 < $1 }.map { $0..<$1 }
        positions.withUnsafeBufferPointer { posBuf in
            let pos = posBuf.baseAddress!
            for l in 0..<c.nLayers {
                let w = layers[l], lw = wts.layers[l]
                // xn [M, d] = rmsnorm(x);  qkv [M, qkvDim]
                rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + w.norm1, N: M, C: d, eps: c.normEps)
                lw.qkv.forward(out: s.qkv, ldOut: qkvDim, inp: s.xn, ldInp: d, N: M, parts: parts)
                // att [M, qDim]: rope(qk_norm(q|k)), cache writes and attention, by rows
                ModelThreads.run(rowRanges.count) { j in
                    cachedAttention(rows: rowRanges[j], layer: l, positions: pos, cache: cache,
                                    prefixCache: prefix?.cache, s: s, scores: s.scores + j * s.capacity)
                }
                // x += att · Woᵀ ;  x += down(silu(gate) ⊙ up) of rmsnorm(x)
                lw.wo.forward(out: s.x, ldOut: d, inp: s.att, ldInp: qDim, N: M, beta: 1, parts: parts)
                rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + w.norm2, N: M, C: d, eps: c.normEps)
                // Each thread computes gate and up columns a..<b, then their activations.
                let ffn = columnRanges(F, parts: parts)
                ModelThreads.run(ffn.count) { j in
                    let r = ffn[j]
                    if ffn.count == 1 {
                        lw.gateUp.forward(out: s.gateUp, ldOut: 2 * F, inp: s.xn, ldInp: d, N: M, columns: 0..<(2 * F))
                    } else {
                        lw.gateUp.forward(out: s.gateUp, ldOut: 2 * F, inp: s.xn, ldInp: d, N: M, columns: r)
                        lw.gateUp.forward(out: s.gateUp, ldOut: 2 * F, inp: s.xn, ldInp: d, N: M,
                                          columns: (F + r.lowerBound)..<(F + r.upperBound))
                    }
                    swigluForward(out: s.act, gateUp: s.gateUp, N: M, F: F, columns: r)
                }
                lw.down.forward(out: s.x, ldOut: d, inp: s.act, ldInp: F, N: M, beta: 1, parts: parts)
            }
        }
        // logits [R, V] = rmsnorm(x[logitRows]) · Wheadᵀ
        let R = logitRows.count
        for (i, r) in logitRows.enumerated() where i != r { (s.x + i * d).update(from: s.x + r * d, count: d) }
        rmsnormForward(out: s.xn, rstd: s.rstd, inp: s.x, weight: p + finalNormOffset, N: R, C: d, eps: c.normEps)
        wts.head.forward(out: s.logits, ldOut: c.vocabSize, inp: s.xn, ldInp: d, N: R, parts: parts)
    }

    /// Rows `rows` of a cached step's layer `layer`: q|k of `s.qkv` normed and rotated into `s.qk`,
    /// each row's k and v written to its cache entry, then `s.att` = its attention over its prefix
    /// positions and its own `0...own`. `scores` holds one row's scores (`s.capacity` floats).
    /// Rows only read their own cache entries (and the read-only prefix), so row ranges can run
    /// on different threads.
    func cachedAttention(rows: Range<Int>, layer l: Int, positions pos: UnsafePointer<Int32>,
                         cache: KVCache, prefixCache: KVCache?, s: DecodeScratch, scores: FloatPtr) {
        let c = config, hd = c.headDim, r0 = rows.lowerBound, n = rows.count, w = layers[l]
        let scale = 1 / Float(hd).squareRoot(), group = c.nHeads / c.nKVHeads
        qkNormForward(qk: s.qk + r0 * qkDim, qkv: s.qkv + r0 * qkvDim, rstdQ: s.rstdQ + r0 * c.nHeads,
                      rstdK: s.rstdK + r0 * c.nKVHeads, N: n, w: w)
        ropeForward(s.qk + r0 * qkDim, ld: qkDim, N: n, heads: c.nHeads, headDim: hd, positions: pos + r0, table: rope)
        ropeForward(s.qk + r0 * qkDim + qDim, ld: qkDim, N: n, heads: c.nKVHeads, headDim: hd, positions: pos + r0, table: rope)
        // cache[l, slot, g, own index] = (k, v) of kv head g
        for r in rows {
            let own = Int(pos[r]) - Int(s.prefixLength[r]), slot = Int(s.slot[r])
            for g in 0..<c.nKVHeads {
                (cache.keys(l, slot, g) + own * hd).update(from: s.qk + r * qkDim + qDim + g * hd, count: hd)
                (cache.values(l, slot, g) + own * hd).update(from: s.qkv + r * qkvDim + qDim + kvDim + g * hd, count: hd)
            }
        }
        for r in rows {
            let n0 = Int(s.prefixLength[r]), n1 = Int(pos[r]) - n0 + 1, slot = Int(s.slot[r])
            for h in 0..<c.nHeads {
                let g = h / group, q = s.qk + r * qkDim + h * hd
                let kb = cache.keys(l, slot, g), vb = cache.values(l, slot, g)
                let pk = prefixCache?.keys(l, Int(s.prefixSlot[r]), g)
                let pv = prefixCache?.values(l, Int(s.prefixSlot[r]), g)
                if let pk { attentionScores(scores, q: q, keys: pk, n: n0, hd: hd, scale: scale) }
                attentionScores(scores + n0, q: q, keys: kb, n: n1, hd: hd, scale: scale)
                let sum = expShiftInPlace(scores, n0 + n1, shift: maxElement(scores, n0 + n1))
                scaleInPlace(scores, n0 + n1, 1 / sum)
                let out = s.att + r * qDim + h * hd
                memset(out, 0, hd * MemoryLayout<Float>.stride)
                if let pv { attentionWeightedSum(out, p: scores, values: pv, n: n0, hd: hd) }
                attentionWeightedSum(out, p: scores + n0, values: vb, n: n1, hd: hd)
            }
        }
    }
}
