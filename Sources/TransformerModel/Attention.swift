import Foundation

// Causal multi-head attention with grouped-query heads (GQA), for one sequence of L tokens.
// Query head h reads key/value head h / (nHeads / nKVHeads). Scores, probabilities and the
// weighted sum go through sgemm in row blocks, so only the causal (lower) triangle is computed.

let attentionBlock = 64

/// Forward.
/// `q [L, ldq]` (head h at column h·hd), `k [L, ldk]`, `v [L, ldv]` (kv head g at g·hd),
/// `out [L, ldo]` (head h at h·hd), `probs [nHeads, L, L]` (softmax(q·kᵀ/√hd), causal;
/// entries above the diagonal are zero), kept for the backward pass.
func attentionForward(out: FloatPtr, ldo: Int, probs: FloatPtr,
                      q: ConstFloatPtr, ldq: Int, k: ConstFloatPtr, ldk: Int, v: ConstFloatPtr, ldv: Int,
                      L: Int, nHeads: Int, nKVHeads: Int, headDim hd: Int) {
    let scale = 1 / Float(hd).squareRoot()
    let group = nHeads / nKVHeads
    for h in 0..<nHeads {
        let g = h / group
        let qh = q + h * hd, kh = k + g * hd, vh = v + g * hd, P = probs + h * L * L
        for i0 in stride(from: 0, to: L, by: attentionBlock) {
            let i1 = min(i0 + attentionBlock, L)
            // P[i0..<i1, 0..<i1] = scale · q[i0..<i1] · k[0..<i1]ᵀ
            gemm(transB: true, m: i1 - i0, n: i1, k: hd, alpha: scale, a: qh + i0 * ldq, lda: ldq,
                 b: kh, ldb: ldk, beta: 0, c: P + i0 * L, ldc: L)
            for t in i0..<i1 { causalSoftmaxRow(P + t * L, t: t, width: i1) }
            // out[i0..<i1] = P[i0..<i1, 0..<i1] · v[0..<i1]
            gemm(m: i1 - i0, n: hd, k: i1, a: P + i0 * L, lda: L, b: vh, ldb: ldv,
                 beta: 0, c: out + i0 * ldo + h * hd, ldc: ldo)
        }
    }
}

/// Softmax over `row[0...t]`, zeroing `row[t+1..<width]`.
@inline(__always)
func causalSoftmaxRow(_ row: FloatPtr, t: Int, width: Int) {
    var mx = -Float.infinity
    for j in 0...t { mx = max(mx, row[j]) }
    var sum: Float = 0
    for j in 0...t { let e = expf(row[j] - mx); row[j] = e; sum += e }
    let inv = 1 / sum
    for j in 0...t { row[j] *= inv }
    for j in (t + 1)..<max(width, t + 1) { row[j] = 0 }
}

/// Backward. `dout [L, ldo]` in; `dq [L, ldq]` assigned; `dk [L, ldk]`, `dv [L, ldv]` accumulated
/// (zero them first: kv heads are shared by `nHeads / nKVHeads` query heads). `scratch` holds `L·L` floats.
///   dP = dout · vᵀ,  dv += Pᵀ · dout,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
///   dq = scale · dS · k,  dk += scale · dSᵀ · q.
func attentionBackward(dq: FloatPtr, ldq: Int, dk: FloatPtr, ldk: Int, dv: FloatPtr, ldv: Int,
                       dout: ConstFloatPtr, ldo: Int, probs: ConstFloatPtr,
                       q: ConstFloatPtr, k: ConstFloatPtr, v: ConstFloatPtr, ldqIn: Int, ldkIn: Int, ldvIn: Int,
                       scratch: FloatPtr, L: Int, nHeads: Int, nKVHeads: Int, headDim hd: Int) {
    let scale = 1 / Float(hd).squareRoot()
    let group = nHeads / nKVHeads
    for h in 0..<nHeads {
        let g = h / group
        let P = probs + h * L * L, dS = scratch, dO = dout + h * hd
        for i0 in stride(from: 0, to: L, by: attentionBlock) {
            let i1 = min(i0 + attentionBlock, L), bm = i1 - i0
            // dP[i0..<i1, 0..<i1] = dO[i0..<i1] · v[0..<i1]ᵀ
            gemm(transB: true, m: bm, n: i1, k: hd, a: dO + i0 * ldo, lda: ldo, b: v + g * hd, ldb: ldvIn,
                 beta: 0, c: dS + i0 * L, ldc: L)
            // dv[0..<i1] += P[i0..<i1, 0..<i1]ᵀ · dO[i0..<i1]
            gemm(transA: true, m: i1, n: hd, k: bm, a: P + i0 * L, lda: L, b: dO + i0 * ldo, ldb: ldo,
                 beta: 1, c: dv + g * hd, ldc: ldv)
            for t in i0..<i1 {
                let p = P + t * L, d = dS + t * L
                var dot: Float = 0
                for j in 0...t { dot += p[j] * d[j] }
                for j in 0...t { d[j] = p[j] * (d[j] - dot) }
                for j in (t + 1)..<max(i1, t + 1) { d[j] = 0 }
            }
            // dq[i0..<i1] = scale · dS[i0..<i1, 0..<i1] · k[0..<i1]
            gemm(m: bm, n: hd, k: i1, alpha: scale, a: dS + i0 * L, lda: L, b: k + g * hd, ldb: ldkIn,
                 beta: 0, c: dq + i0 * ldq + h * hd, ldc: ldq)
            // dk[0..<i1] += scale · dS[i0..<i1, 0..<i1]ᵀ · q[i0..<i1]
            gemm(transA: true, m: i1, n: hd, k: bm, alpha: scale, a: dS + i0 * L, lda: L,
                 b: q + i0 * ldqIn + h * hd, ldb: ldqIn, beta: 1, c: dk + g * hd, ldc: ldk)
        }
    }
}
