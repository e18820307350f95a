import Foundation

// Causal multi-head attention with grouped-query heads (GQA), for one sequence of L tokens.
// Query head h reads key/value head h / (nHeads / nKVHeads). Scores, probabilities and the
// weighted sum go through sgemm in blocks of 64 query rows: block [i0, i1) only needs keys
// 0..<i1, so about half of the L×L square is computed and stored ("causal blocks").

let attentionBlock = 64

/// Number of floats of one head's causal-block probabilities: Σ over blocks of rows · i1.
func causalBlockSize(_ L: Int) -> Int {
    var total = 0
    for i0 in stride(from: 0, to: L, by: attentionBlock) {
        let i1 = min(i0 + attentionBlock, L)
        total += (i1 - i0) * i1
    }
    return total
}

/// Forward.
/// `q [L, ldq]` (head h at column h·hd), `k [L, ldk]`, `v [L, ldv]` (kv head g at g·hd),
/// `out [L, ldo]` (head h at h·hd), `probs [nHeads, causalBlockSize(L)]`: per block a
/// `[i1 − i0, i1]` row-major matrix of softmax(q·kᵀ/√hd) (zero above the diagonal),
/// kept for the backward pass.
func attentionForward(out: FloatPtr, ldo: Int, probs: FloatPtr,
                      q: ConstFloatPtr, ldq: Int, k: ConstFloatPtr, ldk: Int, v: ConstFloatPtr, ldv: Int,
                      L: Int, nHeads: Int, nKVHeads: Int, headDim hd: Int) {
    let scale = 1 / Float(hd).squareRoot()
    let group = nHeads / nKVHeads, perHead = causalBlockSize(L)
    for h in 0..<nHeads {
        let g = h / group
        let qh = q + h * hd, kh = k + g * hd, vh = v + g * hd
        var P = probs + h * perHead
        for i0 in stride(from: 0, to: L, by: attentionBlock) {
            let i1 = min(i0 + attentionBlock, L), bm = i1 - i0
            // P [bm, i1] = scale · q[i0..<i1] · k[0..<i1]ᵀ
            gemm(transB: true, m: bm, n: i1, k: hd, alpha: scale, a: qh + i0 * ldq, lda: ldq,
                 b: kh, ldb: ldk, beta: 0, c: P, ldc: i1)
            for t in i0..<i1 { causalSoftmaxRow(P + (t - i0) * i1, t: t, width: i1) }
            // out[i0..<i1] = P · v[0..<i1]
            gemm(m: bm, n: hd, k: i1, a: P, lda: i1, b: vh, ldb: ldv, beta: 0, c: out + i0 * ldo + h * hd, ldc: ldo)
            P += bm * i1
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

/// Backward. `dout [L, ldo]` in; `dq [L, ldq]` assigned; `dk [L, ldk]`, `dv [L, ldv]` accumulated
/// (zero them first: kv heads are shared by `nHeads / nKVHeads` query heads).
/// `scratch` holds `causalBlockSize(L)` floats.
///   dP = dout · vᵀ,  dv += Pᵀ · dout,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
///   dq = scale · dS · k,  dk += scale · dSᵀ · q.
func attentionBackward(dq: FloatPtr, ldq: Int, dk: FloatPtr, ldk: Int, dv: FloatPtr, ldv: Int,
                       dout: ConstFloatPtr, ldo: Int, probs: ConstFloatPtr,
                       q: ConstFloatPtr, k: ConstFloatPtr, v: ConstFloatPtr, ldqIn: Int, ldkIn: Int, ldvIn: Int,
                       scratch: FloatPtr, L: Int, nHeads: Int, nKVHeads: Int, headDim hd: Int) {
    let scale = 1 / Float(hd).squareRoot()
    let group = nHeads / nKVHeads, perHead = causalBlockSize(L)
    for h in 0..<nHeads {
        let g = h / group
        let dO = dout + h * hd
        var P = probs + h * perHead, dS = scratch
        for i0 in stride(from: 0, to: L, by: attentionBlock) {
            let i1 = min(i0 + attentionBlock, L), bm = i1 - i0
            // dP [bm, i1] = dO[i0..<i1] · v[0..<i1]ᵀ
            gemm(transB: true, m: bm, n: i1, k: hd, a: dO + i0 * ldo, lda: ldo, b: v + g * hd, ldb: ldvIn,
                 beta: 0, c: dS, ldc: i1)
            // dv[0..<i1] += Pᵀ · dO[i0..<i1]
            gemm(transA: true, m: i1, n: hd, k: bm, a: P, lda: i1, b: dO + i0 * ldo, ldb: ldo,
                 beta: 1, c: dv + g * hd, ldc: ldv)
            for t in i0..<i1 {
                let p = P + (t - i0) * i1, d = dS + (t - i0) * i1
                let dot = dotProduct(p, d, t + 1)
                var j = 0
                let dv = F8(repeating: dot)
                while j + 8 <= t + 1 { store8(d, j, load8(p, j) * (load8(d, j) - dv)); j += 8 }
                while j <= t { d[j] = p[j] * (d[j] - dot); j += 1 }
                if i1 > t + 1 { memset(d + t + 1, 0, (i1 - t - 1) * MemoryLayout<Float>.stride) }
            }
            // dq[i0..<i1] = scale · dS · k[0..<i1]
            gemm(m: bm, n: hd, k: i1, alpha: scale, a: dS, lda: i1, b: k + g * hd, ldb: ldkIn,
                 beta: 0, c: dq + i0 * ldq + h * hd, ldc: ldq)
            // dk[0..<i1] += scale · dSᵀ · q[i0..<i1]
            gemm(transA: true, m: i1, n: hd, k: bm, alpha: scale, a: dS, lda: i1,
                 b: q + i0 * ldqIn + h * hd, ldb: ldqIn, beta: 1, c: dk + g * hd, ldc: ldk)
            P += bm * i1; dS += bm * i1
        }
    }
}
