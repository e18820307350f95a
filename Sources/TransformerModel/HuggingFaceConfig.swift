import Foundation

extension ModelConfig {
    /// Model types whose Hugging Face checkpoints map onto ``ParameterLayout``.
    public static let supportedHuggingFaceTypes = ["llama", "mistral", "qwen2", "qwen3"]

    /// Maps a Hugging Face `config.json` (Llama, Mistral, Qwen2, Qwen3) onto a `ModelConfig`.
    ///
    /// `hidden_size`→`dim`, `num_hidden_layers`→`nLayers`, `num_attention_heads`→`nHeads`,
    /// `num_key_value_heads`→`nKVHeads`, `intermediate_size`→`ffnDim`,
    /// `max_position_embeddings`→`maxSeqLen`, `rope_theta` (top level or in
    /// `rope_parameters`)→`ropeTheta`, `rms_norm_eps`→`normEps`, `head_dim`,
    /// `tie_word_embeddings`; Qwen2 always has q/k/v biases, Llama/Qwen3 follow
    /// `attention_bias`; Qwen3 adds q/k norms. RoPE scaling, MLP biases, sliding-window
    /// attention and activations other than SiLU are rejected as unsupported.
    public init(huggingFace json: [String: Any], path: String) throws {
        func bad(_ d: String) -> ModelIOError { .malformed(path: path, detail: d) }
        func unsupported(_ d: String) -> ModelIOError { .unsupported(path: path, detail: d) }
        func int(_ key: String) throws -> Int {
            guard let v = (json[key] as? NSNumber)?.intValue, v > 0 else { throw bad("'\(key)' must be a positive integer") }
            return v
        }
        func optionalInt(_ key: String) throws -> Int? {
            guard let any = json[key], !(any is NSNull) else { return nil }
            return try int(key)
        }
        func float(_ any: Any?, _ key: String) throws -> Float? {
            guard let any, !(any is NSNull) else { return nil }
            guard let n = any as? NSNumber else { throw bad("'\(key)' must be a number") }
            return n.floatValue
        }
        let type = json["model_type"] as? String ?? "llama"
        guard Self.supportedHuggingFaceTypes.contains(type) else {
            throw unsupported("model_type '\(type)' (supported: \(Self.supportedHuggingFaceTypes.joined(separator: ", ")))")
        }
        if let act = json["hidden_act"] as? String, act != "silu" { throw unsupported("hidden_act '\(act)' (only silu)") }
        if (json["mlp_bias"] as? Bool) == true { throw unsupported("mlp_bias") }
        if (json["use_sliding_window"] as? Bool) == true { throw unsupported("use_sliding_window") }
        if type == "mistral", let w = json["sliding_window"], !(w is NSNull) { throw unsupported("sliding_window attention") }

        // RoPE: transformers ≥ 5 writes `rope_parameters`; older versions `rope_theta` + `rope_scaling`.
        let ropeParameters = json["rope_parameters"] as? [String: Any]
        for (key, rope) in [("rope_scaling", json["rope_scaling"] as? [String: Any]), ("rope_parameters", ropeParameters)] {
            guard let rope else { continue }
            let ropeType = (rope["rope_type"] ?? rope["type"]) as? String ?? "default"
            if ropeType != "default" { throw unsupported("\(key) type '\(ropeType)' (only default RoPE)") }
        }
        let theta = try float(json["rope_theta"], "rope_theta")
            ?? float(ropeParameters?["rope_theta"], "rope_parameters.rope_theta") ?? 10_000

        let dim = try int("hidden_size")
        let nHeads = try int("num_attention_heads")
        let eps = try float(json["rms_norm_eps"], "rms_norm_eps") ?? 1e-6
        guard eps > 0 else { throw bad("'rms_norm_eps' must be positive") }
        let config = ModelConfig(
            vocabSize: try int("vocab_size"), dim: dim, nLayers: try int("num_hidden_layers"), nHeads: nHeads,
            nKVHeads: try optionalInt("num_key_value_heads"), ffnDim: try int("intermediate_size"),
            maxSeqLen: try optionalInt("max_position_embeddings") ?? 2048, ropeTheta: theta, normEps: eps,
            headDim: try optionalInt("head_dim"),
            tiedEmbeddings: json["tie_word_embeddings"] as? Bool ?? false,
            qkNorm: type == "qwen3",
            attentionBias: type == "qwen2" || (json["attention_bias"] as? Bool ?? false))
        guard config.nHeads % config.nKVHeads == 0 else {
            throw bad("num_attention_heads \(config.nHeads) is not a multiple of num_key_value_heads \(config.nKVHeads)")
        }
        guard json["head_dim"] != nil || dim % nHeads == 0 else {
            throw bad("hidden_size \(dim) is not a multiple of num_attention_heads \(nHeads)")
        }
        self = config
    }
}
