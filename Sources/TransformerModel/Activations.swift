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

/// Everything the forward pass keeps for the backward pass, plus backward scratch,
/// carved from one allocation. Sized for `rows` packed tokens; reused while a batch fits.
final class Activations {
    let rows: Int, probsPerLayer: Int, maxLength: Int, chunk: Int
    private let base: FloatPtr

    // Saved by the forward pass; per-layer arrays are [nLayers, ...].
    let resid: FloatPtr      // [nLayers + 1, N, dim]  residual stream entering each layer (last: final)
    let xn1: FloatPtr        // [nLayers, N, dim]      input_layernorm output
    let rstd1: FloatPtr      // [nLayers, N]
    let qkv: FloatPtr        // [nLayers, N, qkvDim]   q|k|v projections (+bias)
    let qk: FloatPtr         // [nLayers, N, qDim+kvDim] q|k after q/k-norm and RoPE
    let rstdQ: FloatPtr      // [nLayers, N, nHeads]   (qkNorm)
    let rstdK: FloatPtr      // [nLayers, N, nKVHeads] (qkNorm)
    let probs: FloatPtr      // [nLayers, probsPerLayer] attention probabilities
    let att: FloatPtr        // [nLayers, N, qDim]     attention output (o_proj input)
    let hres: FloatPtr       // [nLayers, N, dim]      residual after attention
    let xn2: FloatPtr        // [nLayers, N, dim]      post_attention_layernorm output
    let rstd2: FloatPtr      // [nLayers, N]
    let gateUp: FloatPtr     // [nLayers, N, 2·ffn]    gate|up projections
    let act: FloatPtr        // [nLayers, N, ffn]      silu(gate)·up
    let xf: FloatPtr         // [N, dim]               final norm output
    let rstdF: FloatPtr      // [N]
    // Backward scratch (one layer at a time).
    let dresid: FloatPtr, dxn: FloatPtr, dqkv: FloatPtr, dqk: FloatPtr, datt: FloatPtr
    let dgateUp: FloatPtr, dact: FloatPtr, dxf: FloatPtr, dScores: FloatPtr
    // Output head, `chunk` scored rows at a time.
    let xg: FloatPtr, dxg: FloatPtr, logits: FloatPtr

    init(config c: ModelConfig, rows N: Int, probsPerLayer: Int, maxLength: Int) {
        let L = c.nLayers, d = c.dim, qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim
        let F = c.ffnDim
        rows = N; self.probsPerLayer = probsPerLayer; self.maxLength = maxLength
        chunk = max(16, min(512, 4_194_304 / c.vocabSize))
        let sizes = [
            (L + 1) * N * d, L * N * d, L * N, L * N * (qDim + 2 * kvDim), L * N * (qDim + kvDim),
            L * N * c.nHeads, L * N * c.nKVHeads, L * probsPerLayer, L * N * qDim, L * N * d, L * N * d, L * N,
            L * N * 2 * F, L * N * F, N * d, N,
            N * d, N * d, N * (qDim + 2 * kvDim), N * (qDim + kvDim), N * qDim,
            N * 2 * F, N * F, N * d, maxLength * maxLength,
            chunk * d, chunk * d, chunk * c.vocabSize,
        ]
        // Round each piece up to 16 floats (64 bytes) so every array stays aligned.
        let rounded = sizes.map { ($0 + 15) / 16 * 16 }
        base = allocateFloats(rounded.reduce(0, +))
        var ptrs: [FloatPtr] = [], off = 0
        for r in rounded { ptrs.append(base + off); off += r }
        (resid, xn1, rstd1, qkv, qk, rstdQ, rstdK, probs) = (ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6], ptrs[7])
        (att, hres, xn2, rstd2, gateUp, act, xf, rstdF) = (ptrs[8], ptrs[9], ptrs[10], ptrs[11], ptrs[12], ptrs[13], ptrs[14], ptrs[15])
        (dresid, dxn, dqkv, dqk, datt, dgateUp, dact, dxf, dScores) = (ptrs[16], ptrs[17], ptrs[18], ptrs[19], ptrs[20], ptrs[21], ptrs[22], ptrs[23], ptrs[24])
        (xg, dxg, logits) = (ptrs[25], ptrs[26], ptrs[27])
    }

    deinit { free(base) }

    /// Whether a batch of this shape fits (per-layer strides use the batch's own row count).
    func fits(rows N: Int, probsPerLayer p: Int, maxLength m: Int) -> Bool {
        N <= rows && p <= probsPerLayer && m <= maxLength
    }
}
