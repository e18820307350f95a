import Foundation

// The whole-model forward and backward passes over a packed batch of N tokens,
// written top to bottom; each step names the kernel and its shapes.

extension Transformer {
    /// Forward through every layer and the final norm: fills `a` up to `xf [N, dim]`
    /// (keeping every layer's activations when `a.layers == nLayers`, for the backward pass).
    func forwardBody(_ b: PackedBatch, _ a: Activations) {
        let c = config, N = b.rows, d = dim, F = c.ffnDim, hd = c.headDim
        let p = parameters.baseAddress!
        b.tokens.withUnsafeBufferPointer { tokens in
            // x [N, d] = embed_tokens[tokens]
            embeddingForward(out: a.resid, tokens: tokens.baseAddress!, weight: p + embedOffset, N: N, C: d)
        }
        b.positions.withUnsafeBufferPointer { posBuf in
            let pos = posBuf.baseAddress!
            for l in 0..<c.nLayers {
                let w = layers[l], sl = a.slot(l)
                let x = a.resid + a.residSlot(l) * N * d, rstd1 = a.rstd1 + sl * N
                let qkv = a.qkv + sl * N * qkvDim, qk = a.qk
                let att = a.att + sl * N * qDim, h = a.hres + sl * N * d
                let rstd2 = a.rstd2 + sl * N, gu = a.gateUp + sl * N * 2 * F
                let xNext = a.resid + a.residSlot(l + 1) * N * d

                // xn [N, d] = rmsnorm(x)
                rmsnormForward(out: a.xn, rstd: rstd1, inp: x, weight: p + w.norm1, N: N, C: d, eps: c.normEps)
                // qkv [N, qkvDim] = xn · [Wq; Wk; Wv]ᵀ (+ bias)
                qkvForward(qkv: qkv, xn: a.xn, N: N, w: w)
                // qk [N, qDim + kvDim] = rope(qk_norm(q | k))
                qkNormForward(qk: qk, qkv: qkv, rstdQ: a.rstdQ + sl * N * c.nHeads,
                              rstdK: a.rstdK + sl * N * c.nKVHeads, N: N, w: w)
                ropeForward(qk, ld: qkDim, N: N, heads: c.nHeads, headDim: hd, positions: pos, table: rope)
                ropeForward(qk + qDim, ld: qkDim, N: N, heads: c.nKVHeads, headDim: hd, positions: pos, table: rope)
                // att [N, qDim] = causal attention per segment
                for s in b.segments {
                    let r0 = s.start
                    if s.prefixLength == 0 {
                        attentionForward(out: att + r0 * qDim, ldo: qDim, probs: a.probs,
                                         q: qk + r0 * qkDim, ldq: qkDim, k: qk + r0 * qkDim + qDim, ldk: qkDim,
                                         v: qkv + r0 * qkvDim + qDim + kvDim, ldv: qkvDim,
                                         L: s.length, nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: hd)
                    } else {
                        // kCat, vCat [P + L, kvDim] = k, v of the shared prompt's rows, then of the segment's
                        gatherKeysValues(s, qk: qk, qkv: qkv, a)
                        attentionForward(out: att + r0 * qDim, ldo: qDim, probs: a.probs,
                                         q: qk + r0 * qkDim, ldq: qkDim, k: a.kCat, ldk: kvDim, v: a.vCat, ldv: kvDim,
                                         L: s.length, prefix: s.prefixLength,
                                         nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: hd)
                    }
                }
                // h [N, d] = x + att · Woᵀ
                h.update(from: x, count: N * d)
                linearForward(out: h, ldOut: d, inp: att, ldInp: qDim, weight: p + w.wo, bias: nil,
                              N: N, I: qDim, O: d, beta: 1)
                // xn [N, d] = rmsnorm(h)
                rmsnormForward(out: a.xn, rstd: rstd2, inp: h, weight: p + w.norm2, N: N, C: d, eps: c.normEps)
                // gu [N, 2F] = xn · [Wgate; Wup]ᵀ ;  act [N, F] = silu(gate) ⊙ up
                linearForward(out: gu, ldOut: 2 * F, inp: a.xn, ldInp: d, weight: p + w.wGateUp, bias: nil,
                              N: N, I: d, O: 2 * F)
                swigluForward(out: a.act, gateUp: gu, N: N, F: F)
                // xNext [N, d] = h + act · Wdownᵀ
                xNext.update(from: h, count: N * d)
                linearForward(out: xNext, ldOut: d, inp: a.act, ldInp: F, weight: p + w.wDown, bias: nil,
                              N: N, I: F, O: d, beta: 1)
            }
        }
        // xf [N, d] = rmsnorm(x)
        rmsnormForward(out: a.xf, rstd: a.rstdF, inp: a.resid + a.residSlot(c.nLayers) * N * d,
                       weight: p + finalNormOffset, N: N, C: d, eps: c.normEps)
    }

    /// Row `j` of the keys a segment attends to: its prefix's rows, then its own.
    @inline(__always)
    func keyRow(_ s: PackedBatch.Segment, _ j: Int) -> Int {
        j < s.prefixLength ? s.prefixStart + j : s.start + j - s.prefixLength
    }

    /// `kCat [P + L, kvDim]` = the rotated k columns of `qk`, `vCat [P + L, kvDim]` = the v columns
    /// of `qkv`, over the rows segment `s` attends to (its shared prefix, then its own rows).
    func gatherKeysValues(_ s: PackedBatch.Segment, qk: ConstFloatPtr, qkv: ConstFloatPtr, _ a: Activations) {
        for j in 0..<(s.prefixLength + s.length) {
            let r = keyRow(s, j)
            (a.kCat + j * kvDim).update(from: qk + r * qkDim + qDim, count: kvDim)
            (a.vCat + j * kvDim).update(from: qkv + r * qkvDim + qDim + kvDim, count: kvDim)
        }
    }

    /// Backward of `gatherKeysValues`: `dkCat`, `dvCat` are added into the k columns of `dqk` and
    /// the v columns of `dqkv`, so a prompt row collects the gradient of every completion reading it.
    func scatterKeysValuesGradient(_ s: PackedBatch.Segment, _ a: Activations) {
        for j in 0..<(s.prefixLength + s.length) {
            let r = keyRow(s, j)
            addInPlace(a.dqk + r * qkDim + qDim, a.dkCat + j * kvDim, kvDim)
            addInPlace(a.dqkv + r * qkvDim + qDim + kvDim, a.dvCat + j * kvDim, kvDim)
        }
    }

    /// `qkv [N, qkvDim] = xn [N, dim] · [Wq; Wk; Wv]ᵀ (+ [bq; bk; bv])`: one matmul when the
    /// weights are adjacent in the buffer, three otherwise (Qwen2's biases sit between them).
    /// On the `packed` copies when given (the decode step), else on OpenBLAS.
    func qkvForward(qkv: FloatPtr, xn: ConstFloatPtr, N: Int, w: LayerOffsets, packed: PackedWeights? = nil) {
        let d = dim
        if w.fusedQKV {
            decodeLinear(out: qkv, ldOut: qkvDim, inp: xn, ldInp: d, offset: w.wq, N: N, I: d, O: qkvDim, packed: packed)
        } else {
            for (off, bias, col, O) in [(w.wq, w.bq, 0, qDim), (w.wk, w.bk, qDim, kvDim), (w.wv, w.bv, qDim + kvDim, kvDim)] {
                decodeLinear(out: qkv + col, ldOut: qkvDim, inp: xn, ldInp: d, offset: off, bias: bias,
                             N: N, I: d, O: O, packed: packed)
            }
        }
    }

    /// Backward of `qkvForward`: `dxn [N, dim]` assigned, weight (and bias) gradients accumulated.
    func qkvBackward(dxn: FloatPtr, dqkv: ConstFloatPtr, xn: ConstFloatPtr, N: Int, w: LayerOffsets, grad g: FloatPtr) {
        let p = parameters.baseAddress!, d = dim
        if w.fusedQKV {
            linearBackward(dinp: dxn, ldDinp: d, dinpBeta: 0, dweight: g + w.wq, dbias: nil, dout: dqkv,
                           ldDout: qkvDim, inp: xn, ldInp: d, weight: p + w.wq, N: N, I: d, O: qkvDim)
        } else {
            let parts = [(w.wq, w.bq, 0, qDim), (w.wk, w.bk, qDim, kvDim), (w.wv, w.bv, qDim + kvDim, kvDim)]
            for (i, (wOff, bOff, col, O)) in parts.enumerated() {
                linearBackward(dinp: dxn, ldDinp: d, dinpBeta: i == 0 ? 0 : 1, dweight: g + wOff,
                               dbias: bOff.map { g + $0 }, dout: dqkv + col, ldDout: qkvDim,
                               inp: xn, ldInp: d, weight: p + wOff, N: N, I: d, O: O)
            }
        }
    }

    /// `qk [N, qDim + kvDim]` = per-head RMSNorm of the q and k parts of `qkv` (Qwen3), or a copy.
    func qkNormForward(qk: FloatPtr, qkv: ConstFloatPtr, rstdQ: FloatPtr, rstdK: FloatPtr, N: Int, w: LayerOffsets) {
        let p = parameters.baseAddress!, c = config
        for n in 0..<N {
            let src = qkv + n * qkvDim, dst = qk + n * qkDim
            if let qn = w.qNorm, let kn = w.kNorm {
                rmsnormForward(out: dst, rstd: rstdQ + n * c.nHeads, inp: src, weight: p + qn,
                               N: c.nHeads, C: c.headDim, eps: c.normEps)
                rmsnormForward(out: dst + qDim, rstd: rstdK + n * c.nKVHeads, inp: src + qDim, weight: p + kn,
                               N: c.nKVHeads, C: c.headDim, eps: c.normEps)
            } else {
                dst.update(from: src, count: qkDim)
            }
        }
    }

    /// Backward of `qkNormForward`: the q|k columns of `dqkv` are assigned from `dqk`.
    func qkNormBackward(dqkv: FloatPtr, dqk: ConstFloatPtr, qkv: ConstFloatPtr, rstdQ: ConstFloatPtr,
                        rstdK: ConstFloatPtr, N: Int, w: LayerOffsets, grad g: FloatPtr) {
        let p = parameters.baseAddress!, c = config
        for n in 0..<N {
            let dst = dqkv + n * qkvDim, src = dqk + n * qkDim, x = qkv + n * qkvDim
            if let qn = w.qNorm, let kn = w.kNorm {
                rmsnormBackward(dinp: dst, dweight: g + qn, dout: src, inp: x, weight: p + qn,
                                rstd: rstdQ + n * c.nHeads, N: c.nHeads, C: c.headDim, overwrite: true)
                rmsnormBackward(dinp: dst + qDim, dweight: g + kn, dout: src + qDim, inp: x + qDim, weight: p + kn,
                                rstd: rstdK + n * c.nKVHeads, N: c.nKVHeads, C: c.headDim, overwrite: true)
            } else {
                dst.update(from: src, count: qkDim)
            }
        }
    }

    /// Backward through every layer from `a.dxf [N, dim]` (gradient of the final norm output),
    /// accumulating into `g` (`gradients`, or a thread's own buffer of the same layout).
    func backwardBody(_ b: PackedBatch, _ a: Activations, grad g: FloatPtr) {
        let c = config, N = b.rows, d = dim, F = c.ffnDim, hd = c.headDim
        let p = parameters.baseAddress!
        let dresid = a.dresid
        // dresid [N, d] = rmsnorm_backward(dxf)
        rmsnormBackward(dinp: dresid, dweight: g + finalNormOffset, dout: a.dxf, inp: a.resid + c.nLayers * N * d,
                        weight: p + finalNormOffset, rstd: a.rstdF, N: N, C: d, overwrite: true)
        b.positions.withUnsafeBufferPointer { posBuf in
            let pos = posBuf.baseAddress!
            for l in (0..<c.nLayers).reversed() {
                let w = layers[l]
                precondition(a.slot(l) == l, "backward needs every layer's activations")
                let x = a.resid + l * N * d, rstd1 = a.rstd1 + l * N
                let qkv = a.qkv + l * N * qkvDim, qk = a.qk
                let att = a.att + l * N * qDim, h = a.hres + l * N * d
                let rstd2 = a.rstd2 + l * N, gu = a.gateUp + l * N * 2 * F

                // MLP: xNext = h + act · Wdownᵀ, act = swiglu(gu), gu = rmsnorm(h) · Wguᵀ.
                // Recompute act [N, F] (and σ(gate)); dWdown += dresidᵀ · act; then act's buffer takes
                // dact = dresid · Wdown.
                swigluForward(out: a.act, sigmoid: a.sig, gateUp: gu, N: N, F: F)
                linearBackward(dinp: nil, ldDinp: F, dinpBeta: 0, dweight: g + w.wDown, dbias: nil,
                               dout: dresid, ldDout: d, inp: a.act, ldInp: F, weight: p + w.wDown, N: N, I: F, O: d)
                gemm(m: N, n: F, k: d, a: dresid, lda: d, b: p + w.wDown, ldb: F, beta: 0, c: a.act, ldc: F)
                // dgu [N, 2F] overwrites gu in place.
                swigluBackward(dgateUp: gu, dout: a.act, gateUp: gu, sigmoid: a.sig, N: N, F: F)
                // Recompute xn = rmsnorm(h); dxn = dgu · Wgu; dWgu += dguᵀ · xn.
                rmsnormForward(out: a.xn, rstd: rstd2, inp: h, weight: p + w.norm2, N: N, C: d, eps: c.normEps)
                linearBackward(dinp: a.dxn, ldDinp: d, dinpBeta: 0, dweight: g + w.wGateUp, dbias: nil,
                               dout: gu, ldDout: 2 * F, inp: a.xn, ldInp: d, weight: p + w.wGateUp,
                               N: N, I: d, O: 2 * F)
                // dresid becomes dh: the residual path plus the norm's input gradient.
                rmsnormBackward(dinp: dresid, dweight: g + w.norm2, dout: a.dxn, inp: h, weight: p + w.norm2,
                                rstd: rstd2, N: N, C: d)
                // Attention: h = x + att · Woᵀ
                linearBackward(dinp: a.datt, ldDinp: qDim, dinpBeta: 0, dweight: g + w.wo, dbias: nil,
                               dout: dresid, ldDout: d, inp: att, ldInp: qDim, weight: p + w.wo, N: N, I: qDim, O: d)
                // Recompute qk [N, qDim + kvDim] = rope(qk_norm(q | k)) from the saved projections.
                qkNormForward(qk: qk, qkv: qkv, rstdQ: a.rstdQ + l * N * c.nHeads,
                              rstdK: a.rstdK + l * N * c.nKVHeads, N: N, w: w)
                ropeForward(qk, ld: qkDim, N: N, heads: c.nHeads, headDim: hd, positions: pos, table: rope)
                ropeForward(qk + qDim, ld: qkDim, N: N, heads: c.nKVHeads, headDim: hd, positions: pos, table: rope)
                // dk and dv accumulate over the query heads sharing them: zero those columns.
                for n in 0..<N {
                    memset(a.dqk + n * qkDim + qDim, 0, kvDim * MemoryLayout<Float>.stride)
                    memset(a.dqkv + n * qkvDim + qDim + kvDim, 0, kvDim * MemoryLayout<Float>.stride)
                }
                for s in b.segments {
                    let r0 = s.start
                    if s.prefixLength == 0 {
                        attentionBackward(dq: a.dqk + r0 * qkDim, ldq: qkDim, dk: a.dqk + r0 * qkDim + qDim, ldk: qkDim,
                                          dv: a.dqkv + r0 * qkvDim + qDim + kvDim, ldv: qkvDim,
                                          dout: a.datt + r0 * qDim, ldo: qDim, probs: a.probs,
                                          q: qk + r0 * qkDim, k: qk + r0 * qkDim + qDim, v: qkv + r0 * qkvDim + qDim + kvDim,
                                          ldqIn: qkDim, ldkIn: qkDim, ldvIn: qkvDim, scratch: a.dScores,
                                          L: s.length, nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: hd)
                    } else {
                        // The segment attends to [prompt ; own rows]: gather their k, v; the gradients
                        // dkCat, dvCat [P + L, kvDim] go back to those rows (prompt rows from every completion).
                        gatherKeysValues(s, qk: qk, qkv: qkv, a)
                        let n = (s.prefixLength + s.length) * kvDim
                        memset(a.dkCat, 0, n * MemoryLayout<Float>.stride)
                        memset(a.dvCat, 0, n * MemoryLayout<Float>.stride)
                        attentionBackward(dq: a.dqk + r0 * qkDim, ldq: qkDim, dk: a.dkCat, ldk: kvDim,
                                          dv: a.dvCat, ldv: kvDim, dout: a.datt + r0 * qDim, ldo: qDim, probs: a.probs,
                                          q: qk + r0 * qkDim, k: a.kCat, v: a.vCat,
                                          ldqIn: qkDim, ldkIn: kvDim, ldvIn: kvDim, scratch: a.dScores,
                                          L: s.length, prefix: s.prefixLength,
                                          nHeads: c.nHeads, nKVHeads: c.nKVHeads, headDim: hd)
                        scatterKeysValuesGradient(s, a)
                    }
                }
                ropeBackward(a.dqk, ld: qkDim, N: N, heads: c.nHeads, headDim: hd, positions: pos, table: rope)
                ropeBackward(a.dqk + qDim, ld: qkDim, N: N, heads: c.nKVHeads, headDim: hd, positions: pos, table: rope)
                qkNormBackward(dqkv: a.dqkv, dqk: a.dqk, qkv: qkv, rstdQ: a.rstdQ + l * N * c.nHeads,
                               rstdK: a.rstdK + l * N * c.nKVHeads, N: N, w: w, grad: g)
                // Recompute xn = rmsnorm(x); dxn = dqkv · Wqkv; dWqkv += dqkvᵀ · xn.
                rmsnormForward(out: a.xn, rstd: rstd1, inp: x, weight: p + w.norm1, N: N, C: d, eps: c.normEps)
                qkvBackward(dxn: a.dxn, dqkv: a.dqkv, xn: a.xn, N: N, w: w, grad: g)
                // dresid becomes dx.
                rmsnormBackward(dinp: dresid, dweight: g + w.norm1, dout: a.dxn, inp: x, weight: p + w.norm1,
                                rstd: rstd1, N: N, C: d)
            }
        }
        b.tokens.withUnsafeBufferPointer { tokens in
            embeddingBackward(dweight: g + embedOffset, tokens: tokens.baseAddress!, dout: dresid, N: N, C: d)
        }
    }

    /// Output head over the scored rows, `chunk` rows at a time:
    /// `logits [m, V] = xf[predRows] · Wheadᵀ / T`, then per row `(log p[target], entropy)`.
    func headForward(_ b: PackedBatch, _ a: Activations, logp: FloatPtr, entropy: FloatPtr) {
        let d = dim, V = config.vocabSize, W = ConstFloatPtr(parameters.baseAddress! + headOffset)
        let S = b.predRows.count
        for c0 in stride(from: 0, to: S, by: a.chunk) {
            let m = min(a.chunk, S - c0)
            for i in 0..<m { (a.xg + i * d).update(from: a.xf + b.predRows[c0 + i] * d, count: d) }
            gemm(transB: true, m: m, n: V, k: d, alpha: b.invTemperature, a: a.xg, lda: d, b: W, ldb: d,
                 beta: 0, c: a.logits, ldc: V)
            for i in 0..<m {
                let r = logSoftmaxRow(a.logits + i * V, V: V, target: Int(b.targets[c0 + i]))
                logp[c0 + i] = r.logp; entropy[c0 + i] = r.entropy
            }
        }
    }

    /// Backward of the head: recomputes each chunk's logits, then
    /// `dlogits = dlogp · (onehot − softmax)`, `dWhead += dlogitsᵀ · xg / T`, `dxf[predRows] += dlogits · Whead / T`.
    /// `a.dxf [N, dim]` is assigned (zero on rows that predict nothing).
    func headBackward(_ b: PackedBatch, _ a: Activations, dlogp: ConstFloatPtr, grad: FloatPtr) {
        let d = dim, V = config.vocabSize
        let W = ConstFloatPtr(parameters.baseAddress! + headOffset), dW = grad + headOffset
        let S = b.predRows.count, s = b.invTemperature
        memset(a.dxf, 0, b.rows * d * MemoryLayout<Float>.stride)
        for c0 in stride(from: 0, to: S, by: a.chunk) {
            let m = min(a.chunk, S - c0)
            for i in 0..<m { (a.xg + i * d).update(from: a.xf + b.predRows[c0 + i] * d, count: d) }
            gemm(transB: true, m: m, n: V, k: d, alpha: s, a: a.xg, lda: d, b: W, ldb: d, beta: 0, c: a.logits, ldc: V)
            for i in 0..<m {
                logSoftmaxRowBackward(a.logits + i * V, V: V, target: Int(b.targets[c0 + i]), dlogp: dlogp[c0 + i])
            }
            gemm(transA: true, m: V, n: d, k: m, alpha: s, a: a.logits, lda: V, b: a.xg, ldb: d, beta: 1, c: dW, ldc: d)
            gemm(m: m, n: d, k: V, alpha: s, a: a.logits, lda: V, b: W, ldb: d, beta: 0, c: a.dxg, ldc: d)
            for i in 0..<m {
                let dst = a.dxf + b.predRows[c0 + i] * d, src = a.dxg + i * d
                for j in 0..<d { dst[j] += src[j] }
            }
        }
    }
}
