import CKernels
import Foundation
import XCTest
@testable import TransformerModel

/// The decode step's C kernels (Sources/CKernels) against the model's own layers: the product on
/// packed weights against OpenBLAS, SwiGLU and attention against the Swift code, on every version
/// this CPU runs (AVX-512, AVX2, generic), and sampling with packed weights against sampling on
/// OpenBLAS alone.
final class DecodeKernelTests: XCTestCase {
    override func tearDown() { _ = rft_kernels_force(nil) }

    /// The versions this CPU can run, each made current in turn.
    func eachVersion(_ body: (String) throws -> Void) rethrows {
        for isa in ["generic", "avx2", "avx512"] where String(cString: rft_kernels_force(isa)) == isa {
            try body(isa)
        }
    }

    func randoms(_ n: Int, _ rng: inout RandomGenerator) -> [Float] { (0..<n).map { _ in rng.nextFloat() * 2 - 1 } }

    func testPackedProductMatchesOpenBLAS() throws {
        var rng = RandomGenerator(seed: 5)
        try eachVersion { isa in
            for (m, n, k) in [(1, 1, 1), (7, 17, 5), (8, 16, 32), (9, 40, 128), (33, 260, 128), (64, 129, 513), (3, 31, 64)] {
                let x = randoms(m * (k + 3), &rng), w = randoms(n * k, &rng), start = randoms(m * (n + 2), &rng)
                var packed = [Float](repeating: .nan, count: Int(rft_packed_size(Int32(n), Int32(k))))
                rft_pack_panels(w, Int32(n), Int32(k), Int32(k), &packed)
                for accumulate in [false, true] {
                    // x rows have stride k+3 and c rows n+2: strides are honoured, the padding is left alone.
                    var c = start, expected = start
                    rft_gemm_packed(Int32(m), Int32(n), Int32(k), x, Int32(k + 3), packed, &c, Int32(n + 2), accumulate ? 1 : 0)
                    gemm(transB: true, m: m, n: n, k: k, a: x, lda: k + 3, b: w, ldb: k, beta: accumulate ? 1 : 0, c: &expected, ldc: n + 2)
                    for r in 0..<m {
                        for j in 0..<(n + 2) {
                            let i = r * (n + 2) + j
                            if j >= n { XCTAssertEqual(c[i], start[i], "\(isa) padding \(m)x\(n)x\(k)"); continue }
                            XCTAssertEqual(c[i], expected[i], accuracy: 1e-5 * Float(k).squareRoot() * 4, "\(isa) \(m)x\(n)x\(k) [\(r),\(j)]")
                        }
                    }
                }
            }
        }
    }

    func testSwiGLUMatchesTheModelLayer() throws {
        var rng = RandomGenerator(seed: 6)
        try eachVersion { isa in
            for f in [1, 15, 16, 24, 512] {
                let n = 3, gateUp = randoms(n * 2 * f, &rng).map { $0 * 8 }
                var out = [Float](repeating: 0, count: n * f), expected = out
                rft_swiglu(&out, gateUp, Int32(n), Int32(f))
                swigluForward(out: &expected, gateUp: gateUp, N: n, F: f)
                assertClose(out, expected, accuracy: 1e-5)
                _ = isa
            }
        }
    }

    func testAttentionIsSoftmaxWeightedValuesOverBothRuns() throws {
        var rng = RandomGenerator(seed: 7)
        try eachVersion { isa in
            for (n0, n1, hd) in [(0, 1, 32), (5, 3, 32), (16, 17, 16), (2, 40, 8), (0, 33, 64), (7, 1, 20), (20, 13, 48)] {
                let q = randoms(hd, &rng), k0 = randoms(max(n0, 1) * hd, &rng), v0 = randoms(max(n0, 1) * hd, &rng)
                let k1 = randoms(n1 * hd, &rng), v1 = randoms(n1 * hd, &rng), scale = 1 / Float(hd).squareRoot()
                var out = [Float](repeating: .nan, count: hd), scores = [Float](repeating: 0, count: n0 + n1)
                rft_attend(&out, q, k0, v0, Int32(n0), k1, v1, Int32(n1), Int32(hd), scale, &scores)
                // The same in Double, plainly.
                let keys = Array(k0.prefix(n0 * hd)) + k1, values = Array(v0.prefix(n0 * hd)) + v1, n = n0 + n1
                let s = (0..<n).map { j in (0..<hd).reduce(0.0) { $0 + Double(q[$1]) * Double(keys[j * hd + $1]) } * Double(scale) }
                let e = s.map { exp($0 - s.max()!) }, total = e.reduce(0, +)
                let expected = (0..<hd).map { i in Float((0..<n).reduce(0.0) { $0 + e[$1] / total * Double(values[$1 * hd + i]) }) }
                assertClose(out, expected, accuracy: 1e-5)
                XCTAssertFalse(out.contains { $0.isNaN }, "\(isa) \(n0)+\(n1)")
            }
        }
    }

    /// Sampling on packed weights gives the tokens OpenBLAS gives, and log-probs equal to rounding.
    func testSamplingOnPackedWeightsMatchesOpenBLAS() throws {
        let config = ModelConfig(vocabSize: 19, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 40, maxSeqLen: 32)
        let model = ModelGradientTests.randomModel(config, seed: 9)
        XCTAssertNotNil(PackedWeights(model))
        let prompts = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
        func run(blas: Bool) throws -> [[Completion]] {
            if blas { setenv("RFT_KERNELS", "blas", 1) } else { unsetenv("RFT_KERNELS") }
            defer { unsetenv("RFT_KERNELS") }
            XCTAssertEqual(PackedWeights(model) == nil, blas)
            var rng = RandomGenerator(seed: 4)
            return try model.sample(prompts: prompts, completionsPerPrompt: 2, options: SamplingOptions(maxNewTokens: 10, temperature: 0), rng: &rng)
        }
        let packed = try run(blas: false), blas = try run(blas: true)
        XCTAssertEqual(packed.map { $0.map(\.tokens) }, blas.map { $0.map(\.tokens) })
        assertClose(Array(packed.joined().map(\.logProbs).joined()), Array(blas.joined().map(\.logProbs).joined()), accuracy: 1e-4)
    }
}
