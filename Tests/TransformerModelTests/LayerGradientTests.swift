import XCTest
@testable import TransformerModel

/// Each layer's backward against fourth-order central differences of `Σ w ⊙ forward(x)`.
final class LayerGradientTests: XCTestCase {
    var rng = RandomGenerator(seed: 7)

    func testLinearWithBias() {
        let N = 5, I = 6, O = 4
        let x = TestBuffer(N * I, &rng), W = TestBuffer(O * I, &rng), b = TestBuffer(O, &rng)
        let y = TestBuffer(zeros: N * O), w = TestBuffer(N * O, &rng)
        func loss() -> Double {
            linearForward(out: y.p, ldOut: O, inp: x.p, ldInp: I, weight: W.p, bias: b.p, N: N, I: I, O: O)
            return weightedSum(y.p, w.p, N * O)
        }
        let dx = TestBuffer(zeros: N * I), dW = TestBuffer(zeros: O * I), db = TestBuffer(zeros: O)
        linearBackward(dinp: dx.p, ldDinp: I, dinpBeta: 0, dweight: dW.p, dbias: db.p, dout: w.p, ldDout: O,
                       inp: x.p, ldInp: I, weight: W.p, N: N, I: I, O: O)
        assertGradient("dx", dx.buf, numericGradient(x.buf, loss))
        assertGradient("dW", dW.buf, numericGradient(W.buf, loss))
        assertGradient("db", db.buf, numericGradient(b.buf, loss))
    }

    func testRMSNorm() {
        let N = 4, C = 8
        let x = TestBuffer(N * C, &rng), g = TestBuffer(C, &rng, std: 0.2, mean: 1)
        let y = TestBuffer(zeros: N * C), rstd = TestBuffer(zeros: N), w = TestBuffer(N * C, &rng)
        func loss() -> Double {
            rmsnormForward(out: y.p, rstd: rstd.p, inp: x.p, weight: g.p, N: N, C: C, eps: 1e-5)
            return weightedSum(y.p, w.p, N * C)
        }
        _ = loss()
        let dx = TestBuffer(zeros: N * C), dg = TestBuffer(zeros: C)
        rmsnormBackward(dinp: dx.p, dweight: dg.p, dout: w.p, inp: x.p, weight: g.p, rstd: rstd.p, N: N, C: C)
        assertGradient("dx", dx.buf, numericGradient(x.buf, loss))
        assertGradient("dweight", dg.buf, numericGradient(g.buf, loss))
    }

    func testRoPEMatchesRotateHalfAndInverts() {
        let table = RoPETable(headDim: 8, maxSeqLen: 16, theta: 10_000)
        let N = 3, heads = 2, hd = 8, ld = heads * hd
        let positions: [Int32] = [0, 5, 11]
        let x = TestBuffer(N * ld, &rng), w = TestBuffer(N * ld, &rng)
        let original = x.array
        positions.withUnsafeBufferPointer { pos in
            ropeForward(x.p, ld: ld, N: N, heads: heads, headDim: hd, positions: pos.baseAddress!, table: table)
        }
        // Hugging Face: q·cos + rotate_half(q)·sin with rotate_half(x) = cat(−x[h:], x[:h]).
        for n in 0..<N {
            for head in 0..<heads {
                for i in 0..<hd {
                    let f = Double(i % 4), angle = Double(positions[n]) * pow(10_000, -2 * f / 8)
                    let base = n * ld + head * hd
                    let rot = i < 4 ? -original[base + i + 4] : original[base + i - 4]
                    let expect = Double(original[base + i]) * cos(angle) + Double(rot) * sin(angle)
                    XCTAssertEqual(Double(x.buf[n * ld + head * hd + i]), expect, accuracy: 1e-5)
                }
            }
        }
        // Backward is the transpose: d/dx Σ w ⊙ rope(x).
        let dx = TestBuffer(N * ld, &rng)
        for i in 0..<dx.count { dx.buf[i] = w.buf[i] }
        positions.withUnsafeBufferPointer { pos in
            ropeBackward(dx.p, ld: ld, N: N, heads: heads, headDim: hd, positions: pos.baseAddress!, table: table)
        }
        for i in 0..<x.count { x.buf[i] = original[i] }
        let y = TestBuffer(zeros: N * ld)
        let numeric = numericGradient(x.buf) {
            y.buf.baseAddress!.update(from: x.p, count: N * ld)
            positions.withUnsafeBufferPointer { pos in
                ropeForward(y.p, ld: ld, N: N, heads: heads, headDim: hd, positions: pos.baseAddress!, table: table)
            }
            return weightedSum(y.p, w.p, N * ld)
        }
        assertGradient("dx", dx.buf, numeric)
    }

    func testSwiGLU() {
        let N = 3, F = 5
        let gu = TestBuffer(N * 2 * F, &rng, std: 2), y = TestBuffer(zeros: N * F), w = TestBuffer(N * F, &rng)
        func loss() -> Double {
            swigluForward(out: y.p, gateUp: gu.p, N: N, F: F)
            return weightedSum(y.p, w.p, N * F)
        }
        let d = TestBuffer(zeros: N * 2 * F)
        swigluBackward(dgateUp: d.p, dout: w.p, gateUp: gu.p, N: N, F: F)
        assertGradient("dgateUp", d.buf, numericGradient(gu.buf, loss))
    }

    /// GQA (4 query heads on 2 kv heads), strided q/k/v, longer than one 64-row block.
    func testCausalGroupedAttention() {
        let L = 70, nH = 4, nKV = 2, hd = 4, ldq = 20, ldk = 10, ldv = 12, ldo = 18
        let q = TestBuffer(L * ldq, &rng), k = TestBuffer(L * ldk, &rng), v = TestBuffer(L * ldv, &rng)
        let out = TestBuffer(zeros: L * ldo), probs = TestBuffer(zeros: nH * L * L), w = TestBuffer(L * ldo, &rng)
        // Only the columns attention reads/writes take part.
        for r in 0..<L { for c in (nH * hd)..<ldo { w.buf[r * ldo + c] = 0 } }
        func loss() -> Double {
            attentionForward(out: out.p, ldo: ldo, probs: probs.p, q: q.p, ldq: ldq, k: k.p, ldk: ldk, v: v.p, ldv: ldv,
                             L: L, nHeads: nH, nKVHeads: nKV, headDim: hd)
            return weightedSum(out.p, w.p, L * ldo)
        }
        _ = loss()
        // Causal: row t's probabilities vanish beyond t and sum to 1.
        // Head 0's causal blocks: rows 0..<64 are [64, 64], rows 64..<70 are [6, 70].
        XCTAssertEqual(causalBlockSize(L), 64 * 64 + 6 * 70)
        for t in [0, 1, 63, 64, 69] {
            let (row, width) = t < 64 ? (t * 64, 64) : (64 * 64 + (t - 64) * 70, 70)
            var s: Float = 0
            for j in 0..<width { s += probs.buf[row + j]; if j > t { XCTAssertEqual(probs.buf[row + j], 0) } }
            XCTAssertEqual(s, 1, accuracy: 1e-5)
        }
        let dq = TestBuffer(zeros: L * ldq), dk = TestBuffer(zeros: L * ldk), dv = TestBuffer(zeros: L * ldv)
        let scratch = TestBuffer(zeros: L * L)
        attentionBackward(dq: dq.p, ldq: ldq, dk: dk.p, ldk: ldk, dv: dv.p, ldv: ldv, dout: w.p, ldo: ldo,
                          probs: probs.p, q: q.p, k: k.p, v: v.p, ldqIn: ldq, ldkIn: ldk, ldvIn: ldv,
                          scratch: scratch.p, L: L, nHeads: nH, nKVHeads: nKV, headDim: hd)
        // Check the used columns only (the rest have zero gradient by construction).
        func used(_ ld: Int, _ width: Int) -> [Int] { (0..<L).flatMap { r in (0..<width).map { r * ld + $0 } } }
        for (name, x, dx, ld, width) in [("dq", q, dq, ldq, nH * hd), ("dk", k, dk, ldk, nKV * hd), ("dv", v, dv, ldv, nKV * hd)] {
            let idx = used(ld, width)
            let numeric = idx.map { numericGradient(x.buf, indices: $0..<($0 + 1), loss)[0] }
            assertGradient(name, idx.map { dx.buf[$0] }, numeric)
        }
    }

    func testLogSoftmaxHead() {
        let V = 9
        let z = TestBuffer(V, &rng, std: 2)
        let target = 4, dlogp: Float = 0.7
        let r = logSoftmaxRow(z.p, V: V, target: target)
        // Against a double-precision reference.
        let zs = z.array.map(Double.init), mx = zs.max()!
        let lse = mx + log(zs.map { exp($0 - mx) }.reduce(0, +))
        XCTAssertEqual(Double(r.logp), zs[target] - lse, accuracy: 1e-5)
        let ent = -zs.map { exp($0 - lse) * ($0 - lse) }.reduce(0, +)
        XCTAssertEqual(Double(r.entropy), ent, accuracy: 1e-5)
        let numeric = numericGradient(z.buf) { Double(dlogp) * Double(logSoftmaxRow(z.p, V: V, target: target).logp) }
        let dz = TestBuffer(V, &rng)
        for i in 0..<V { dz.buf[i] = z.buf[i] }
        logSoftmaxRowBackward(dz.p, V: V, target: target, dlogp: dlogp)
        assertGradient("dlogits", dz.buf, numeric)
    }

    func testEmbedding() {
        let V = 5, C = 3, N = 4
        let E = TestBuffer(V * C, &rng), y = TestBuffer(zeros: N * C), w = TestBuffer(N * C, &rng)
        let tokens: [Int32] = [1, 3, 1, 0]
        func loss() -> Double {
            tokens.withUnsafeBufferPointer { embeddingForward(out: y.p, tokens: $0.baseAddress!, weight: E.p, N: N, C: C) }
            return weightedSum(y.p, w.p, N * C)
        }
        let dE = TestBuffer(zeros: V * C)
        tokens.withUnsafeBufferPointer { embeddingBackward(dweight: dE.p, tokens: $0.baseAddress!, dout: w.p, N: N, C: C) }
        assertGradient("dweight", dE.buf, numericGradient(E.buf, loss))
    }

    func testFastExpIsAccurate() {
        var worst = 0.0
        for i in 0...20_000 {
            let x = -80 + Float(i) * 0.008
            let e = Double(fastExp(x)), ref = Foundation.exp(Double(x))
            worst = max(worst, abs(e - ref) / ref)
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(fastExp(-Float.infinity), 0, accuracy: 1e-37)
    }
}
