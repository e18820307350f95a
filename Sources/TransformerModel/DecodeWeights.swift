import Foundation

// The matmul weights of a cached (sampling) step, and their column-split products.
//
// OpenBLAS packs the weight matrix of every sgemm call. In Hugging Face layout (`[out, in]`,
// multiplied as `x · Wᵀ`) that packing gathers strided elements; from a transposed copy
// (`[in, out]`, multiplied as `x · W`) it copies contiguous runs. At the few rows of a decode
// step the packing is a large part of each call, so `sample` keeps a transposed copy of the
// matrices that fit in half of a Zen 4 core's L2 (`transposeLimit`); larger ones, where OpenBLAS
// is faster on the Hugging Face layout (its blocking streams them either way), are read in place.

/// One linear map of a cached step, `out [N, outputs] (+)= inp [N, inputs] · Wᵀ + b`, stored as
/// pieces of adjacent output columns (q, k and v separately when Qwen2's biases sit between them).
struct DecodeLinear {
    struct Piece {
        /// `[count, inputs]` (Hugging Face layout) or, when `transposed`, `[inputs, count]`.
        let weight: ConstFloatPtr
        let transposed: Bool
        let bias: ConstFloatPtr?
        /// Output columns `column..<column + count`.
        let column: Int, count: Int
    }

    let inputs: Int, outputs: Int
    let pieces: [Piece]

    /// Columns `columns` of `out [N, ldOut] = beta · out + inp [N, ldInp] · Wᵀ + b`; other
    /// columns are untouched, so threads computing disjoint column ranges never share an output.
    func forward(out: FloatPtr, ldOut: Int, inp: ConstFloatPtr, ldInp: Int, N: Int, beta: Float = 0,
                 columns: Range<Int>) {
        for piece in pieces {
            let a = max(columns.lowerBound, piece.column) - piece.column
            let b = min(columns.upperBound, piece.column + piece.count) - piece.column
            if a >= b { continue }
            let c = out + piece.column + a
            if piece.transposed {
                gemm(m: N, n: b - a, k: inputs, a: inp, lda: ldInp, b: piece.weight + a, ldb: piece.count,
                     beta: beta, c: c, ldc: ldOut)
            } else {
                gemm(transB: true, m: N, n: b - a, k: inputs, a: inp, lda: ldInp, b: piece.weight + a * inputs,
                     ldb: inputs, beta: beta, c: c, ldc: ldOut)
            }
            if let bias = piece.bias {
                for n in 0..<N {
                    let row = c + n * ldOut
                    for o in 0..<(b - a) { row[o] += bias[a + o] }
                }
            }
        }
    }

    /// The whole product, split by output columns across `parts` threads (aligned to 16 columns,
    /// OpenBLAS's kernel width). `after(columns)` runs on the thread that computed them.
    func forward(out: FloatPtr, ldOut: Int, inp: ConstFloatPtr, ldInp: Int, N: Int, beta: Float = 0,
                 parts: Int, after: ((Range<Int>) -> Void)? = nil) {
        let ranges = columnRanges(outputs, parts: parts)
        ModelThreads.run(ranges.count) { j in
            forward(out: out, ldOut: ldOut, inp: inp, ldInp: ldInp, N: N, beta: beta, columns: ranges[j])
            after?(ranges[j])
        }
    }
}

/// `0..<count` in at most `parts` contiguous ranges whose bounds are multiples of 16 (but the last).
func columnRanges(_ count: Int, parts: Int) -> [Range<Int>] {
    let blocks = (count + 15) / 16
    return ModelThreads.evenRanges(blocks, parts: parts).map { r in (r.lowerBound * 16)..<min(count, r.upperBound * 16) }
}

/// The linear maps of every layer and the output head, for one `sample` call (the transposed
/// copies are taken from the parameters when it is made, so make a new one after an update).
final class DecodeWeights {
    struct Layer { let qkv: DecodeLinear, wo: DecodeLinear, gateUp: DecodeLinear, down: DecodeLinear }

    /// Matrices of at most this many floats (512 KiB) are kept transposed.
    static let transposeLimit = 131_072

    let layers: [Layer]
    let head: DecodeLinear
    private var copies: [FloatPtr] = []

    /// `transpose: false` reads every matrix in place (no copies).
    init(_ model: Transformer, transpose: Bool = true) {
        let c = model.config, d = c.dim, F = c.ffnDim, qDim = model.qDim, kvDim = model.kvDim
        let p = UnsafePointer(model.parameters.baseAddress!)
        var copies: [FloatPtr] = []
        func piece(_ offset: Int, bias: Int?, column: Int, count: Int, inputs: Int) -> DecodeLinear.Piece {
            let w = p + offset, b = bias.map { p + $0 }
            guard transpose, count * inputs <= Self.transposeLimit else {
                return .init(weight: w, transposed: false, bias: b, column: column, count: count)
            }
            let t = allocateFloats(count * inputs)
            // In 32 × 32 tiles, so both sides stay in cache.
            for o0 in stride(from: 0, to: count, by: 32) {
                for i0 in stride(from: 0, to: inputs, by: 32) {
                    for o in o0..<min(o0 + 32, count) {
                        for i in i0..<min(i0 + 32, inputs) { t[i * count + o] = w[o * inputs + i] }
                    }
                }
            }
            copies.append(t)
            return .init(weight: t, transposed: true, bias: b, column: column, count: count)
        }
        func linear(_ offset: Int, inputs: Int, outputs: Int) -> DecodeLinear {
            DecodeLinear(inputs: inputs, outputs: outputs,
                         pieces: [piece(offset, bias: nil, column: 0, count: outputs, inputs: inputs)])
        }
        layers = model.layers.map { w in
            let qkv = w.fusedQKV
                ? linear(w.wq, inputs: d, outputs: qDim + 2 * kvDim)
                : DecodeLinear(inputs: d, outputs: qDim + 2 * kvDim, pieces: [
                    piece(w.wq, bias: w.bq, column: 0, count: qDim, inputs: d),
                    piece(w.wk, bias: w.bk, column: qDim, count: kvDim, inputs: d),
                    piece(w.wv, bias: w.bv, column: qDim + kvDim, count: kvDim, inputs: d)])
            return Layer(qkv: qkv, wo: linear(w.wo, inputs: qDim, outputs: d),
                         gateUp: linear(w.wGateUp, inputs: d, outputs: 2 * F),
                         down: linear(w.wDown, inputs: F, outputs: d))
        }
        head = linear(model.headOffset, inputs: d, outputs: c.vocabSize)
        self.copies = copies
    }

    deinit { for t in copies { free(t) } }
}
