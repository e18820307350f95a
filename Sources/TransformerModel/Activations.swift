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
/// allocation. Sized for up to `rows` packed tokens; reused while a batch fits.
///
/// To save memory, norm outputs, the rotated q|k, the SwiGLU activation and the attention
/// probabilities (O(T²)) are recomputed in the backward pass rather than stored, and the scratch
/// of the MLP and of the attention share one region.
///
/// A forward-only buffer (`layers == 1`) keeps one layer's slot, reused by every layer, and two
/// residual slots used in turn: a reference or π_old pass needs a quarter of the memory of a
/// training pass, small enough to keep between steps.
final class Activations {
    let rows: Int, maxKeys: Int, attentionFloats: Int, chunk: Int
    /// Layers whose activations are kept: `nLayers` (for backward) or 1 (forward only).
    let layers: Int
    private let base: FloatPtr

    // Saved by the forward pass; per-layer arrays are [layers, ...] (`slot(l)`).
    let resid: FloatPtr      // [layers + 1, N, dim]   residual stream entering each layer (last: final)
    let rstd1: FloatPtr      // [layers, N]            input_layernorm 1/rms
    let qkv: FloatPtr        // [layers, N, qkvDim]    q|k|v projections (+bias)
    let rstdQ: FloatPtr      // [layers, N, nHeads]    (qkNorm)
    let rstdK: FloatPtr      // [layers, N, nKVHeads]  (qkNorm)
    let att: FloatPtr        // [layers, N, qDim]      attention output (o_proj input)
    let hres: FloatPtr       // [layers, N, dim]       residual after attention
    let rstd2: FloatPtr      // [layers, N]            post_attention_layernorm 1/rms
    let gateUp: FloatPtr     // [layers, N, 2·ffn]     gate|up projections (backward overwrites with their gradient)
    let xf: FloatPtr         // [N, dim]               final norm output
    let rstdF: FloatPtr      // [N]
    // Scratch.
    let xn: FloatPtr         // [N, dim]   a norm output (forward), recomputed in backward
    let dresid: FloatPtr     // [N, dim]   gradient of the residual stream
    let dxn: FloatPtr        // [N, dim]   gradient of a norm output
    let dxf: FloatPtr        // [N, dim]   gradient of the final norm output
    let act: FloatPtr        // [N, ffn]   SwiGLU output, then its gradient (shares the region below)
    let sig: FloatPtr        // [N, ffn]   σ(gate), recomputed with act in backward
    let datt: FloatPtr       // [N, qDim]            } attention backward,
    let dqk: FloatPtr        // [N, qDim+kvDim]      } same region as `act`
    let dqkv: FloatPtr       // [N, qkvDim]          }
    let qk: FloatPtr         // [N, qDim+kvDim]      } q|k after q/k-norm and RoPE (forward and backward)
    let probs: FloatPtr      // [attentionFloats]  one head's attention probabilities
    let dScores: FloatPtr    // [attentionFloats]  their gradient
    // A segment's keys and values gathered after its shared prefix, and their gradients.
    let kCat: FloatPtr, vCat: FloatPtr, dkCat: FloatPtr, dvCat: FloatPtr   // [maxKeys, kvDim] each
    // Output head, `chunk` scored rows at a time.
    let xg: FloatPtr, dxg: FloatPtr, logits: FloatPtr

    init(config c: ModelConfig, rows N: Int, maxKeys: Int, attentionFloats: Int, layers L: Int) {
        let d = c.dim, qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim
        let F = c.ffnDim, qkvDim = qDim + 2 * kvDim, qkDim = qDim + kvDim
        rows = N; self.maxKeys = maxKeys; self.attentionFloats = attentionFloats; layers = L
        chunk = max(16, min(512, 4_194_304 / c.vocabSize))
        let shared = max(2 * N * F, N * (qDim + 2 * qkDim + qkvDim))
        let sizes = [
            (L + 1) * N * d, L * N, L * N * qkvDim, L * N * c.nHeads, L * N * c.nKVHeads,
            attentionFloats, L * N * qDim, L * N * d, L * N, L * N * 2 * F, N * d, N,
            N * d, N * d, N * d, N * d, shared, attentionFloats,
            chunk * d, chunk * d, chunk * c.vocabSize, 4 * maxKeys * kvDim,
        ]
        // Round each piece up to 16 floats (64 bytes) so every array stays aligned.
        let rounded = sizes.map { ($0 + 15) / 16 * 16 }
        base = allocateFloats(rounded.reduce(0, +))
        var ptrs: [FloatPtr] = [], off = 0
        for r in rounded { ptrs.append(base + off); off += r }
        (resid, rstd1, qkv, rstdQ, rstdK, probs) = (ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5])
        (att, hres, rstd2, gateUp, xf, rstdF) = (ptrs[6], ptrs[7], ptrs[8], ptrs[9], ptrs[10], ptrs[11])
        (xn, dresid, dxn, dxf) = (ptrs[12], ptrs[13], ptrs[14], ptrs[15])
        act = ptrs[16]; sig = ptrs[16] + N * F
        datt = ptrs[16]; dqk = datt + N * qDim; dqkv = dqk + N * qkDim; qk = dqkv + N * qkvDim
        dScores = ptrs[17]
        (xg, dxg, logits) = (ptrs[18], ptrs[19], ptrs[20])
        kCat = ptrs[21]; vCat = kCat + maxKeys * kvDim; dkCat = vCat + maxKeys * kvDim; dvCat = dkCat + maxKeys * kvDim
    }

    /// A buffer for `b`. With `growing` (a smaller buffer did not fit), with headroom, so that
    /// the next batches of a run, whose shapes vary a little, reuse it instead of reallocating.
    convenience init(config: ModelConfig, for b: PackedBatch, layers: Int, growing: Bool) {
        if growing {
            self.init(config: config, rows: b.rows * 5 / 4, maxKeys: b.maxKeys * 5 / 4,
                      attentionFloats: b.attentionFloats * 3 / 2, layers: layers)
        } else {
            self.init(config: config, rows: b.rows, maxKeys: b.maxKeys, attentionFloats: b.attentionFloats, layers: layers)
        }
    }

    deinit { free(base) }

    /// The slot of layer `l` in the per-layer arrays.
    @inline(__always) func slot(_ l: Int) -> Int { l % layers }
    /// The slot of the residual stream entering layer `l` (`l == nLayers`: the final one).
    @inline(__always) func residSlot(_ l: Int) -> Int { l % (layers + 1) }

    /// Whether a batch of this shape fits (per-layer strides use the batch's own row count).
    func fits(_ b: PackedBatch, layers L: Int) -> Bool {
        L == layers && b.rows <= rows && b.maxKeys <= maxKeys && b.attentionFloats <= attentionFloats
    }
}
