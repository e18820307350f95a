import Foundation

// Causal multi-head attention with grouped-query heads (GQA), for one sequence of L query tokens
// that may follow a shared prefix of P tokens (a GRPO prompt scored once for its G completions):
// the keys and values are `[P + L]` rows, prefix first, and query t attends keys 0...P + t.
// Query head h reads key/value head h / (nHeads / nKVHeads). Scores, probabilities and the
// weighted sum go through sgemm in blocks of 64 query rows: block [i0, i1) only needs keys
// 0..<P + i1, so about half of the L×L square is computed and stored ("causal blocks").

let attentionBlock = 64

/// Number of floats of one head's causal-block probabilities: Σ over blocks of rows · (P + i1).
func causalBlockSize(_ L: Int, prefix P: Int = 0) -> Int {
    var total = 0
    for i0 in stride(from: 0, to: L, by: attentionBlock) {
        let i1 = min(i0 + attentionBlock, L)
        total += (i1 - i0) * (P + i1)
    }
    return total
}

/// Probabilities of one head: per causal block `[i1 − i0, P + i1]` of `probs`,
/// `softmax(scale · q[i0..<i1] · k[0..<P + i1]ᵀ)` with zeros above the (shifted) diagonal.
/// `q [L, ldq]` and `k [P + L, ldk]` point at the head's columns.
func attentionProbabilities(_ probs: FloatPtr, q: ConstFloatPtr, ldq: Int, k: ConstFloatPtr, ldk: Int,
                            L: Int, prefix P: Int = 0, headDim hd: Int) {
    let scale = 1 / Float(hd).squareRoot()
    var block = probs
    for i0 in stride(from: 0, to: L, by: attentionBlock) {
        let i1 = min(i0 + attentionBlock, L), bm = i1 - i0, w = P + i1
        gemm(transB: true, m: bm, n: w, k: hd, alpha: scale, a: q + i0 * ldq, lda: ldq,
             b: k, ldb: ldk, beta: 0, c: block, ldc: w)
        for t in i0..<i1 { causalSoftmaxRow(block + (t - i0) * w, t: P + t, width: w) }
        block += bm * w
    }
}

/// Forward.
/// `q [L, ldq]` (head h at column h·hd), `k [P + L, ldk]`, `v [P + L, ldv]` (kv head g at g·hd),
/// `out [L, ldo]` (head h at h·hd). `probs` is scratch for one head's `causalBlockSize(L, prefix: P)`
/// probabilities; they are recomputed in the backward pass rather than kept (O(L²) memory).
func attentionForward(out: FloatPtr, ldo: Int, probs: FloatPtr,
                      q: ConstFloatPtr, ldq: Int, k: ConstFloatPtr, ldk: Int, v: ConstFloatPtr, ldv: Int,
                      L: Int, prefix P: Int = 0, nHeads: Int, nKVHeads: Int, headDim hd: Int) {
    let group = nHeads / nKVHeads
    for h in 0..<nHeads {
        let g = h / group
        attentionProbabilities(probs, q: q + h * hd, ldq: ldq, k: k + g * hd, ldk: ldk, L: L, prefix: P, headDim: hd)
        var block = probs
        for i0 in stride(from: 0, to: L, by: attentionBlock) {
            let i1 = min(i0 + attentionBlock, L), bm = i1 - i0, w = P + i1
            // out[i0..<i1] = probs · v[0..<P + i1]
            gemm(m: bm, n: hd, k: w, a: block, lda: w, b: v + g * hd, ldb: ldv, beta: 0,
                 c: out + i0 * ldo + h * hd, ldc: ldo)
            block += bm * w
        }
    }
}

/// Softmax over `row[0...t]`, zeroing `row[t+1..<width]`.
@inline(__always)
func causalSoftmaxRow(_ row: FloatPtr, t: Int, width: Int) {
    let mx = maxElement(row, t + 1)
    let sum = expShiftInPlace(row, t + 1, shift: mx)
    scaleInPlace(row, t + 1, 1 / sum)
    if width > t + 1 { memset(row + t + 1, 0, (width - t - 1) * MemoryLayout<Float>.stride) }
}

/// Backward. `dout [L, ldo]` in; `dq [L, ldq]` assigned; `dk [P + L, ldk]`, `dv [P + L, ldv]`
/// accumulated (zero them first: kv heads are shared by `nHeads / nKVHeads` query heads).
/// `probs` and `scratch` each hold `causalBlockSize(L, prefix: P)` floats; each head's
/// probabilities are recomputed into `probs`.
///   dP = dout · vᵀ,  dv += Pᵀ · dout,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
///   dq = scale · dS · k,  dk += scale · dSᵀ · q.
func attentionBackward(dq: FloatPtr, ldq: Int, dk: FloatPtr, ldk: Int, dv: FloatPtr, ldv: Int,
                       dout: ConstFloatPtr, ldo: Int, probs: FloatPtr,
                       q: ConstFloatPtr, k: ConstFloatPtr, v: ConstFloatPtr, ldqIn: Int, ldkIn: Int, ldvIn: Int,
                       scratch: FloatPtr, L: Int, prefix P: Int = 0, nHeads: Int, nKVHeads: Int, headDim hd: Int) {
    let scale = 1 / Float(hd).squareRoot()
    let group = nHeads / nKVHeads
    for h in 0..<nHeads {
        let g = h / group
        let dO = dout + h * hd
        attentionProbabilities(probs, q: q + h * hd, ldq: ldqIn, k: k + g * hd, ldk: ldkIn, L: L, prefix: P, headDim: hd)
        var pb = probs, dS = scratch
        for i0 in stride(from: 0, to: L, by: attentionBlock) {
            let i1 = min(i0 + attentionBlock, L), bm = i1 - i0, w = P + i1
            // dP [bm, w] = dO[i0..<i1] · v[0..<w]ᵀ
            gemm(transB: true, m: bm, n: w, k: hd, a: dO + i0 * ldo, lda: ldo, b: v + g * hd, ldb: ldvIn,
                 beta: 0, c: dS, ldc: w)
            // dv[0..<w] += Pᵀ · dO[i0..<i1]
            gemm(transA: true, m: w, n: hd, k: bm, a: pb, lda: w, b: dO + i0 * ldo, ldb: ldo,
                 beta: 1, c: dv + g * hd, ldc: ldv)
            for t in i0..<i1 {
                let p = pb + (t - i0) * w, d = dS + (t - i0) * w, n = P + t + 1
                let dot = dotProduct(p, d, n)
                var j = 0
                let dv = F8(repeating: dot)
                while j + 8 <= n { store8(d, j, load8(p, j) * (load8(d, j) - dv)); j += 8 }
                while j < n { d[j] = p[j] * (d[j] - dot); j += 1 }
                if w > n { memset(d + n, 0, (w - n) * MemoryLayout<Float>.stride) }
            }
            // dq[i0..<i1] = scale · dS · k[0..<w]
            gemm(m: bm, n: hd, k: w, alpha: scale, a: dS, lda: w, b: k + g * hd, ldb: ldkIn,
                 beta: 0, c: dq + i0 * ldq + h * hd, ldc: ldq)
            // dk[0..<w] += scale · dSᵀ · q[i0..<i1]
            gemm(transA: true, m: w, n: hd, k: bm, alpha: scale, a: dS, lda: w,
                 b: q + i0 * ldqIn + h * hd, ldb: ldqIn, beta: 1, c: dk + g * hd, ldc: ldk)
            pb += bm * w; dS += bm * w
        }
    }
}
