/// One named tensor inside the contiguous parameter buffer.
///
/// Names and shapes follow Hugging Face's Llama/Qwen naming, row-major,
/// with linear weights stored `[out_features, in_features]` (y = x · Wᵀ), so a
/// Hugging Face checkpoint maps onto the buffer name for name.
public struct TensorSpec: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Offset, in floats, into the parameter (and gradient) buffer.
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// Where every parameter of a `ModelConfig` lives in the single parameter buffer.
///
/// Tensor names:
/// - `model.embed_tokens.weight` `[vocab, dim]`
/// - per layer `i`, prefix `model.layers.i.`:
///   `input_layernorm.weight` `[dim]`,
///   `self_attn.q_proj.weight` `[nHeads*headDim, dim]` (+ `.bias` when `attentionBias`),
///   `self_attn.k_proj.weight` `[nKVHeads*headDim, dim]` (+ `.bias`),
///   `self_attn.v_proj.weight` `[nKVHeads*headDim, dim]` (+ `.bias`),
///   `self_attn.q_norm.weight` / `self_attn.k_norm.weight` `[headDim]` when `qkNorm`,
///   `self_attn.o_proj.weight` `[dim, nHeads*headDim]`,
///   `post_attention_layernorm.weight` `[dim]`,
///   `mlp.gate_proj.weight` `[ffn, dim]`, `mlp.up_proj.weight` `[ffn, dim]`,
///   `mlp.down_proj.weight` `[dim, ffn]`
/// - `model.norm.weight` `[dim]`
/// - `lm_head.weight` `[vocab, dim]` unless `tiedEmbeddings`
public struct ParameterLayout: Sendable {
    public let config: ModelConfig
    public let tensors: [TensorSpec]
    public let totalCount: Int
    private let index: [String: Int]

    public init(_ config: ModelConfig) {
        var specs: [TensorSpec] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) {
            let spec = TensorSpec(name: name, shape: shape, offset: offset)
            specs.append(spec)
            offset += spec.count
        }
        let d = config.dim, q = config.nHeads * config.headDim, kv = config.nKVHeads * config.headDim
        add("model.embed_tokens.weight", [config.vocabSize, d])
        for i in 0..<config.nLayers {
            let p = "model.layers.\(i)."
            add(p + "input_layernorm.weight", [d])
            add(p + "self_attn.q_proj.weight", [q, d])
            if config.attentionBias { add(p + "self_attn.q_proj.bias", [q]) }
            add(p + "self_attn.k_proj.weight", [kv, d])
            if config.attentionBias { add(p + "self_attn.k_proj.bias", [kv]) }
            add(p + "self_attn.v_proj.weight", [kv, d])
            if config.attentionBias { add(p + "self_attn.v_proj.bias", [kv]) }
            if config.qkNorm {
                add(p + "self_attn.q_norm.weight", [config.headDim])
                add(p + "self_attn.k_norm.weight", [config.headDim])
            }
            add(p + "self_attn.o_proj.weight", [d, q])
            add(p + "post_attention_layernorm.weight", [d])
            add(p + "mlp.gate_proj.weight", [config.ffnDim, d])
            add(p + "mlp.up_proj.weight", [config.ffnDim, d])
            add(p + "mlp.down_proj.weight", [d, config.ffnDim])
        }
        add("model.norm.weight", [d])
        if !config.tiedEmbeddings { add("lm_head.weight", [config.vocabSize, d]) }
        self.config = config
        self.tensors = specs
        self.totalCount = offset
        self.index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> TensorSpec? { index[name].map { tensors[$0] } }
}
