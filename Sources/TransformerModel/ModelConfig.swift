/// Shape of a decoder-only transformer in the Llama / Qwen2 / Qwen3 family.
///
/// Encoded as rft's own `config.json` with the snake_case keys below
/// (`vocab_size`, `dim`, `n_layers`, ...). Hugging Face configs are mapped
/// onto this type by the checkpoint loader.
public struct ModelConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var dim: Int
    public var nLayers: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var ffnDim: Int
    public var maxSeqLen: Int
    public var ropeTheta: Float
    public var normEps: Float
    /// Per-head size; Llama uses `dim / nHeads`, Qwen3 may set it explicitly.
    public var headDim: Int
    /// Output head shares the token-embedding matrix.
    public var tiedEmbeddings: Bool
    /// Qwen3: RMSNorm over each query/key head before RoPE.
    public var qkNorm: Bool
    /// Qwen2: bias on the q/k/v projections.
    public var attentionBias: Bool

    public init(vocabSize: Int, dim: Int, nLayers: Int, nHeads: Int, nKVHeads: Int? = nil,
                ffnDim: Int, maxSeqLen: Int, ropeTheta: Float = 10_000, normEps: Float = 1e-5,
                headDim: Int? = nil, tiedEmbeddings: Bool = true, qkNorm: Bool = false,
                attentionBias: Bool = false) {
        self.vocabSize = vocabSize; self.dim = dim; self.nLayers = nLayers
        self.nHeads = nHeads; self.nKVHeads = nKVHeads ?? nHeads; self.ffnDim = ffnDim
        self.maxSeqLen = maxSeqLen; self.ropeTheta = ropeTheta; self.normEps = normEps
        self.headDim = headDim ?? dim / nHeads; self.tiedEmbeddings = tiedEmbeddings
        self.qkNorm = qkNorm; self.attentionBias = attentionBias
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", dim, nLayers = "n_layers", nHeads = "n_heads"
        case nKVHeads = "n_kv_heads", ffnDim = "ffn_dim", maxSeqLen = "max_seq_len"
        case ropeTheta = "rope_theta", normEps = "norm_eps", headDim = "head_dim"
        case tiedEmbeddings = "tied_embeddings", qkNorm = "qk_norm", attentionBias = "attention_bias"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let dim = try c.decode(Int.self, forKey: .dim)
        let nHeads = try c.decode(Int.self, forKey: .nHeads)
        self.init(vocabSize: try c.decode(Int.self, forKey: .vocabSize), dim: dim,
                  nLayers: try c.decode(Int.self, forKey: .nLayers), nHeads: nHeads,
                  nKVHeads: try c.decodeIfPresent(Int.self, forKey: .nKVHeads),
                  ffnDim: try c.decode(Int.self, forKey: .ffnDim),
                  maxSeqLen: try c.decode(Int.self, forKey: .maxSeqLen),
                  ropeTheta: try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10_000,
                  normEps: try c.decodeIfPresent(Float.self, forKey: .normEps) ?? 1e-5,
                  headDim: try c.decodeIfPresent(Int.self, forKey: .headDim),
                  tiedEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? true,
                  qkNorm: try c.decodeIfPresent(Bool.self, forKey: .qkNorm) ?? false,
                  attentionBias: try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false)
    }

    /// The 1.12M-parameter reference config used by the benchmarks
    /// (dim 128, 4 layers, 4 heads, ffn 512, byte vocabulary of 260, untied head).
    public static let ref1m = ModelConfig(vocabSize: 260, dim: 128, nLayers: 4, nHeads: 4,
                                          ffnDim: 512, maxSeqLen: 256, tiedEmbeddings: false)

    /// A slightly larger model with grouped-query attention: byte vocabulary (260), dim 192, 4 layers,
    /// 6 query heads sharing 2 key/value heads, ffn 512, tied embeddings (about 1.6M parameters).
    /// (`rft demo` uses `ref1m`: docs/TRAINING.md says why.)
    public static let demo = ModelConfig(vocabSize: 260, dim: 192, nLayers: 4, nHeads: 6, nKVHeads: 2,
                                         ffnDim: 512, maxSeqLen: 512, tiedEmbeddings: true)

    /// A dim-512 config for throughput benchmarks (byte vocabulary, 4 layers, 8 heads, ffn 1536).
    public static let bench512 = ModelConfig(vocabSize: 260, dim: 512, nLayers: 4, nHeads: 8,
                                             ffnDim: 1536, maxSeqLen: 256, tiedEmbeddings: false)

    /// A named model shape for training from scratch (byte tokenizer).
    public struct Preset: Sendable {
        public var name: String
        public var config: ModelConfig
        /// What it is for.
        public var use: String
        /// `ref-1m: 1.12M parameters, 256-token context (dim 128, 4 layers) — ...`
        public var summary: String {
            let params = Double(config.parameterCount) / 1e6
            return "\(name): \(String(format: "%.2f", params))M parameters, \(config.maxSeqLen)-token context "
                + "(dim \(config.dim), \(config.nLayers) layers) — \(use)"
        }
    }

    /// The one list of presets, used by `rft train` (`model.preset`), `rft sft --model-config` and `rft bench model`.
    public static let presets: [Preset] = [
        Preset(name: "ref-1m", config: .ref1m, use: "the demo's and the benchmarks' reference model"),
        Preset(name: "demo", config: .demo, use: "a slightly larger model with grouped-query attention"),
        Preset(name: "dim512", config: .bench512, use: "a throughput benchmark shape"),
    ]

    /// The preset called `name`, if any.
    public static func preset(named name: String) -> Preset? { presets.first { $0.name == name } }

    /// Parameters a model of this shape has (embedding, layers, final norm, and the head unless tied).
    public var parameterCount: Int {
        let q = nHeads * headDim, kv = nKVHeads * headDim
        let attention = dim * q + 2 * dim * kv + q * dim + (attentionBias ? q + 2 * kv : 0) + (qkNorm ? 2 * headDim : 0)
        let layer = attention + 3 * dim * ffnDim + 2 * dim
        return vocabSize * dim + nLayers * layer + dim + (tiedEmbeddings ? 0 : vocabSize * dim)
    }

    /// Floating-point operations of one training step (forward + backward = 3 × forward) per token,
    /// for sequences of `contextLength` tokens: 6 per matmul weight (embedding lookups excluded) plus
    /// causal attention (q·kᵀ and p·v over on average (T+1)/2 keys).
    public func trainingFlopsPerToken(contextLength t: Int) -> Double {
        let q = nHeads * headDim, kv = nKVHeads * headDim
        let perLayer = dim * (q + 2 * kv) + q * dim + 3 * dim * ffnDim
        let matmulWeights = Double(nLayers * perLayer + vocabSize * dim)
        let attention = Double(nLayers) * 2 * 2 * Double(q) * Double(t + 1) / 2
        return 3 * (2 * matmulWeights + attention)
    }

    /// Checks that the shape is one the model can run; the error names the field (snake_case key).
    public func validate() throws {
        for (name, value) in [("vocab_size", vocabSize), ("dim", dim), ("n_layers", nLayers), ("n_heads", nHeads),
                              ("n_kv_heads", nKVHeads), ("ffn_dim", ffnDim), ("max_seq_len", maxSeqLen),
                              ("head_dim", headDim)] where value <= 0 {
            throw ModelError.invalidConfig(field: name, reason: "must be positive, got \(value)")
        }
        guard nHeads % nKVHeads == 0 else {
            throw ModelError.invalidConfig(field: "n_kv_heads", reason: "must divide n_heads (\(nHeads)), got \(nKVHeads)")
        }
        guard headDim % 2 == 0 else {
            throw ModelError.invalidConfig(field: "head_dim", reason: "must be even for RoPE, got \(headDim)")
        }
        guard ropeTheta > 0, ropeTheta.isFinite else {
            throw ModelError.invalidConfig(field: "rope_theta", reason: "must be positive, got \(ropeTheta)")
        }
        guard normEps > 0, normEps.isFinite else {
            throw ModelError.invalidConfig(field: "norm_eps", reason: "must be positive, got \(normEps)")
        }
    }
}
