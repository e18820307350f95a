import Foundation

/// Offsets of one decoder layer's tensors in the parameter (and gradient) buffer.
struct LayerOffsets {
    var norm1 = 0, wq = 0, wk = 0, wv = 0, wo = 0, norm2 = 0, wGateUp = 0, wDown = 0
    var bq: Int?, bk: Int?, bv: Int?, qNorm: Int?, kNorm: Int?
    /// q, k and v weights are adjacent, so one `[qkvDim, dim]` matmul computes all three.
    var fusedQKV = false

    init(layout: ParameterLayout, layer i: Int) {
        let p = "model.layers.\(i)."
        func off(_ n: String) -> Int { layout[p + n]!.offset }
        norm1 = off("input_layernorm.weight")
        wq = off("self_attn.q_proj.weight"); wk = off("self_attn.k_proj.weight"); wv = off("self_attn.v_proj.weight")
        bq = layout[p + "self_attn.q_proj.bias"]?.offset
        bk = layout[p + "self_attn.k_proj.bias"]?.offset
        bv = layout[p + "self_attn.v_proj.bias"]?.offset
        qNorm = layout[p + "self_attn.q_norm.weight"]?.offset
        kNorm = layout[p + "self_attn.k_norm.weight"]?.offset
        wo = off("self_attn.o_proj.weight")
        norm2 = off("post_attention_layernorm.weight")
        wGateUp = off("mlp.gate_proj.weight")
        precondition(off("mlp.up_proj.weight") == wGateUp + layout.config.ffnDim * layout.config.dim)
        wDown = off("mlp.down_proj.weight")
        let c = layout.config
        fusedQKV = wk == wq + c.nHeads * c.headDim * c.dim && wv == wk + c.nKVHeads * c.headDim * c.dim
    }
}

/// Everything the forward pass keeps for the backward pass, plus scratch, carved from one
/// allocation. Sized for `rows` packed tokens; reused while a batch fits.
///
/// To save memory, norm outputs and the SwiGLU activation are recomputed in the backward pass
/// (cheap element-wise work) rather than stored, and the backward scratch of the MLP and the
/// attention share one region.
final class Activations {
    let rows: Int, probsPerLayer: Int, maxLength: Int, chunk: Int
    private let base: FloatPtr

    // Saved by the forward pass; per-layer arrays are [nLayers, ...].
    let resid: FloatPtr      // [nLayers + 1, N, dim]  residual stream entering each layer (last: final)
    let rstd1: FloatPtr      // [nLayers, N]           input_layernorm 1/rms
    let qkv: FloatPtr        // [nLayers, N, qkvDim]   q|k|v projections (+bias)
    let qk: FloatPtr         // [nLayers, N, qDim+kvDim] q|k after q/k-norm and RoPE
    let rstdQ: FloatPtr      // [nLayers, N, nHeads]   (qkNorm)
    let rstdK: FloatPtr      // [nLayers, N, nKVHeads] (qkNorm)
    let probs: FloatPtr      // [nLayers, probsPerLayer] attention probabilities (causal blocks)
    let att: FloatPtr        // [nLayers, N, qDim]     attention output (o_proj input)
    let hres: FloatPtr       // [nLayers, N, dim]      residual after attention
    let rstd2: FloatPtr      // [nLayers, N]           post_attention_layernorm 1/rms
    let gateUp: FloatPtr     // [nLayers, N, 2·ffn]    gate|up projections (backward overwrites with their gradient)
    let xf: FloatPtr         // [N, dim]               final norm output
    let rstdF: FloatPtr      // [N]
    // Scratch.
    let xn: FloatPtr         // [N, dim]   a norm output (forward), recomputed in backward
    let dresid: FloatPtr     // [N, dim]   gradient of the residual stream
    let dxn: FloatPtr        // [N, dim]   gradient of a norm output
    let dxf: FloatPtr        // [N, dim]   gradient of the final norm output
    let act: FloatPtr        // [N, ffn]   SwiGLU output, then its gradient (shares the region below)
    let datt: FloatPtr       // [N, qDim]            } attention backward,
    let dqk: FloatPtr        // [N, qDim+kvDim]      } same region as `act`
    let dqkv: FloatPtr       // [N, qkvDim]          }
    let dScores: FloatPtr    // [causalBlockSize(maxLength)]
    // Output head, `chunk` scored rows at a time.
    let xg: FloatPtr, dxg: FloatPtr, logits: FloatPtr

    init(config c: ModelConfig, rows N: Int, probsPerLayer: Int, maxLength: Int) {
        let L = c.nLayers, d = c.dim, qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim
        let F = c.ffnDim, qkvDim = qDim + 2 * kvDim, qkDim = qDim + kvDim
        rows = N; self.probsPerLayer = probsPerLayer; self.maxLength = maxLength
        chunk = max(16, min(512, 4_194_304 / c.vocabSize))
        let shared = max(N * F, N * (qDim + qkDim + qkvDim))
        let sizes = [
            (L + 1) * N * d, L * N, L * N * qkvDim, L * N * qkDim, L * N * c.nHeads, L * N * c.nKVHeads,
            L * probsPerLayer, L * N * qDim, L * N * d, L * N, L * N * 2 * F, N * d, N,
            N * d, N * d, N * d, N * d, shared, causalBlockSize(maxLength),
            chunk * d, chunk * d, chunk * c.vocabSize,
        ]
        // Round each piece up to 16 floats (64 bytes) so every array stays aligned.
        let rounded = sizes.map { ($0 + 15) / 16 * 16 }
        base = allocateFloats(rounded.reduce(0, +))
        var ptrs: [FloatPtr] = [], off = 0
        for r in rounded { ptrs.append(base + off); off += r }
        (resid, rstd1, qkv, qk, rstdQ, rstdK, probs) = (ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6])
        (att, hres, rstd2, gateUp, xf, rstdF) = (ptrs[7], ptrs[8], ptrs[9], ptrs[10], ptrs[11], ptrs[12])
        (xn, dresid, dxn, dxf) = (ptrs[13], ptrs[14], ptrs[15], ptrs[16])
        act = ptrs[17]; datt = ptrs[17]; dqk = ptrs[17] + N * qDim; dqkv = ptrs[17] + N * (qDim + qkDim)
        dScores = ptrs[18]
        (xg, dxg, logits) = (ptrs[19], ptrs[20], ptrs[21])
    }

    deinit { free(base) }

    /// Whether a batch of this shape fits (per-layer strides use the batch's own row count).
    func fits(rows N: Int, probsPerLayer p: Int, maxLength m: Int) -> Bool {
        N <= rows && p <= probsPerLayer && m <= maxLength
    }
}
