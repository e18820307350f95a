import CKernels
import Foundation

/// The decode step's weight matrices packed once per `sample` call, for `rft_gemm_packed`
/// (Sources/CKernels): panels of 16 outputs, so each step reads the weights as they are instead of
/// OpenBLAS packing them again on every call (~15% of a decode step at 32-64 rows a thread).
///
/// Packed: each layer's q|k|v (or q, k and v), o, gate|up and down, and the output head; one
/// allocation. Models above `maxParameters` decode on OpenBLAS alone (no second copy of a large model).
final class PackedWeights {
    /// The panel copy of the matrix at each parameter offset.
    private var panels: [Int: UnsafePointer<Float>] = [:]
    private let storage: FloatPtr

    /// Larger models keep OpenBLAS's own packing: the copy would cost memory and time per call.
    static let maxParameters = 64 << 20

    /// Packs `model`'s decode matrices, or returns nil when the model is too large or
    /// `RFT_KERNELS=blas` asks for OpenBLAS alone.
    init?(_ model: Transformer) {
        let c = model.config
        guard model.parameters.count <= Self.maxParameters,
              getenv("RFT_KERNELS").map({ String(cString: $0) }) != "blas" else { return nil }
        // Each matrix: its offset, its outputs (rows) and its input width.
        var matrices: [(offset: Int, rows: Int, inputs: Int)] = []
        for w in model.layers {
            if w.fusedQKV {
                matrices.append((w.wq, model.qkvDim, c.dim))
            } else {
                matrices += [(w.wq, model.qDim, c.dim), (w.wk, model.kvDim, c.dim), (w.wv, model.kvDim, c.dim)]
            }
            matrices += [(w.wo, c.dim, model.qDim), (w.wGateUp, 2 * c.ffnDim, c.dim), (w.wDown, c.dim, c.ffnDim)]
        }
        matrices.append((model.headOffset, c.vocabSize, c.dim))
        let sizes = matrices.map { Int(rft_packed_size(Int32($0.rows), Int32($0.inputs))) }
        storage = allocateFloats(sizes.reduce(0, +), zeroed: false)
        let p = model.parameters.baseAddress!
        var at = 0
        for (m, size) in zip(matrices, sizes) {
            rft_pack_panels(p + m.offset, Int32(m.rows), Int32(m.inputs), Int32(m.inputs), storage + at)
            panels[m.offset] = UnsafePointer(storage + at)
            at += size
        }
    }

    deinit { free(storage) }

    /// The packed copy of the matrix at `offset`, or nil if it was not packed.
    subscript(offset: Int) -> UnsafePointer<Float>? { panels[offset] }
}

/// A model's decode matrices packed once and reused by several `sample` calls in a row, while the
/// parameters stay as they are: a GRPO step samples its prompts a chunk at a time (ten or so calls
/// between two updates), and packing is otherwise repeated at each call. Whoever changes the
/// parameters drops it (`TransformerPolicy` does at every update and restore); a copy passed to
/// another model is ignored.
public final class DecodeWeights {
    private weak var model: Transformer?
    private let packed: PackedWeights?

    /// Packs `model`'s decode matrices as they are now (nothing when it decodes on OpenBLAS alone).
    public init(_ model: Transformer) {
        self.model = model
        packed = PackedWeights(model)
    }

    /// The packed copy, when it was made from `model`.
    func packed(for model: Transformer) -> PackedWeights? { self.model === model ? packed : nil }
}

extension Transformer {
    /// Which version of the decode step's C kernels runs here: "avx512", "avx2" or "generic"
    /// (chosen from the CPU; `RFT_KERNELS=avx2|generic` picks a lower one, `RFT_KERNELS=blas`
    /// also leaves the products to OpenBLAS).
    public static var decodeKernels: String { String(cString: rft_kernels_isa()) }

    /// `out [N, O] (ldOut) = beta · out + inp [N, I] (ldInp) · weightᵀ (+ bias)` for the weight at
    /// `offset`: on its packed copy when there is one, else on OpenBLAS (`linearForward`).
    func decodeLinear(out: FloatPtr, ldOut: Int, inp: ConstFloatPtr, ldInp: Int, offset: Int, bias: Int? = nil,
                      N: Int, I: Int, O: Int, beta: Float = 0, packed: PackedWeights?) {
        let p = parameters.baseAddress!
        guard let panel = packed?[offset] else {
            linearForward(out: out, ldOut: ldOut, inp: inp, ldInp: ldInp, weight: p + offset,
                          bias: bias.map { ConstFloatPtr(p + $0) }, N: N, I: I, O: O, beta: beta)
            return
        }
        rft_gemm_packed(Int32(N), Int32(O), Int32(I), inp, Int32(ldInp), panel, out, Int32(ldOut), beta == 0 ? 0 : 1)
        if let bias { addBias(out: out, ldOut: ldOut, bias: p + bias, N: N, O: O) }
    }
}
