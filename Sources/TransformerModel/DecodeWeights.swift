import Foundation

// The matmul weights of a cached (sampling) step, and their column-split products.
//
// With few rows a thread, a step's threads split each matmul by output columns, so each packs
// only its slice of the weights (OpenBLAS packs the weight matrix on every sgemm call).
// Transposed weight copies (`[in, out]`, multiplied as `x · W`) were measured and dropped: on this
// OpenBLAS (0.3.21, SkylakeX kernels) packing them costs as much as packing the Hugging Face
// layout (docs/PERFORMANCE.md, "Model").

/// One linear map of a cached step, `out [N, outputs] (+)= inp [N, inputs] · Wᵀ + b`, stored as
/// pieces of adjacent output columns (q, k and v separately when Qwen2's biases sit between them).
struct DecodeLinear {
    struct Piece {
        /// `[count, inputs]` (Hugging Face layout).
        let weight: ConstFloatPtr
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
            gemm(transB: true, m: N, n: b - a, k: inputs, a: inp, lda: ldInp, b: piece.weight + a * inputs,
                 ldb: inputs, beta: beta, c: c, ldc: ldOut)
            if let bias = piece.bias {
                for n in 0..<N {
                    let row = c + n * ldOut
                    for o in 0..<(b - a) { row[o] += bias[a + o] }
                }
            }
        }
    }

    /// The whole product, split by output columns across `parts` threads (aligned to 16 columns,
    /// OpenBLAS's kernel width).
    func forward(out: FloatPtr, ldOut: Int, inp: ConstFloatPtr, ldInp: Int, N: Int, beta: Float = 0, parts: Int) {
        let ranges = columnRanges(outputs, parts: parts)
        ModelThreads.run(ranges.count) { j in
            forward(out: out, ldOut: ldOut, inp: inp, ldInp: ldInp, N: N, beta: beta, columns: ranges[j])
        }
    }
}

/// `0..<count` in at most `parts` contiguous ranges whose bounds are multiples of 16 (but the last).
func columnRanges(_ count: Int, parts: Int) -> [Range<Int>] {
    let blocks = (count + 15) / 16
    return ModelThreads.evenRanges(blocks, parts: parts).map { r in (r.lowerBound * 16)..<min(count, r.upperBound * 16) }
}

/// The linear maps of every layer and the output head, read in place from the parameters.
struct DecodeWeights {
    struct Layer { let qkv: DecodeLinear, wo: DecodeLinear, gateUp: DecodeLinear, down: DecodeLinear }

    let layers: [Layer]
    let head: DecodeLinear

    init(_ model: Transformer) {
        let c = model.config, d = c.dim, F = c.ffnDim, qDim = model.qDim, kvDim = model.kvDim
        let p = UnsafePointer(model.parameters.baseAddress!)
        func piece(_ offset: Int, bias: Int?, column: Int, count: Int) -> DecodeLinear.Piece {
            .init(weight: p + offset, bias: bias.map { p + $0 }, column: column, count: count)
        }
        func linear(_ offset: Int, inputs: Int, outputs: Int) -> DecodeLinear {
            DecodeLinear(inputs: inputs, outputs: outputs, pieces: [piece(offset, bias: nil, column: 0, count: outputs)])
        }
        layers = model.layers.map { w in
            let qkv = w.fusedQKV
                ? linear(w.wq, inputs: d, outputs: qDim + 2 * kvDim)
                : DecodeLinear(inputs: d, outputs: qDim + 2 * kvDim, pieces: [
                    piece(w.wq, bias: w.bq, column: 0, count: qDim),
                    piece(w.wk, bias: w.bk, column: qDim, count: kvDim),
                    piece(w.wv, bias: w.bv, column: qDim + kvDim, count: kvDim)])
            return Layer(qkv: qkv, wo: linear(w.wo, inputs: qDim, outputs: d),
                         gateUp: linear(w.wGateUp, inputs: d, outputs: 2 * F),
                         down: linear(w.wDown, inputs: F, outputs: d))
        }
        head = linear(model.headOffset, inputs: d, outputs: c.vocabSize)
    }
}
