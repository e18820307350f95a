import Foundation

/// Writes a model as a Hugging Face checkpoint directory that `transformers`
/// (`AutoModelForCausalLM` / `AutoTokenizer`) and rft itself can load:
/// `config.json` (model_type `llama`, `qwen2` or `qwen3`, chosen from the config's q/k norm and
/// bias flags), `model.safetensors` (F32), `tokenizer.json`, `tokenizer_config.json` with a
/// `chat_template` that renders the checkpoint's chat format.
///
/// The byte tokenizer is written as an equivalent byte-level BPE without merges: each byte keeps
/// its id, and the four specials keep 256–259.
public enum HuggingFaceExport {
    public static func save(_ model: Transformer, tokenizer: any Tokenizer, chatFormat: ChatFormat? = nil,
                            to directory: URL) throws {
        let format = chatFormat ?? ChatFormat.detect(tokenizer)
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelIOError.writeFailed(path: directory.path, detail: error.localizedDescription)
        }
        let tokenizerJSON: Data, eos: String, bos: String?, pad: String
        switch tokenizer {
        case is ByteTokenizer:
            tokenizerJSON = byteTokenizerJSON()
            eos = "<|endoftext|>"; bos = nil; pad = "<|pad|>"
        case let bpe as BPETokenizer:
            tokenizerJSON = bpe.json
            eos = bpe.eosToken; bos = bpe.bosToken; pad = bpe.padToken
        default:
            throw ModelIOError.writeFailed(path: directory.path, detail: "cannot export a \(type(of: tokenizer)) tokenizer")
        }
        var tokenizerConfig: [String: Any] = ["eos_token": eos, "pad_token": pad, "tokenizer_class": "PreTrainedTokenizerFast",
                                              "chat_template": chatTemplate(format), "model_max_length": model.config.maxSeqLen,
                                              "add_bos_token": false, "add_eos_token": false]
        tokenizerConfig["bos_token"] = bos ?? NSNull()
        let config = huggingFaceConfig(model.config, eos: tokenizer.eosID, bos: tokenizer.bosID, pad: tokenizer.padID)
        try write(try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]), "config.json", in: directory)
        try write(tokenizerJSON, "tokenizer.json", in: directory)
        try write(try JSONSerialization.data(withJSONObject: tokenizerConfig, options: [.prettyPrinted, .sortedKeys]),
                  "tokenizer_config.json", in: directory)
        try ParameterIO.save(UnsafeBufferPointer(model.parameters), layout: model.layout,
                             to: directory.appendingPathComponent("model.safetensors"))
    }

    /// The Hugging Face `config.json` object for `config`.
    public static func huggingFaceConfig(_ c: ModelConfig, eos: Int?, bos: Int?, pad: Int?) -> [String: Any] {
        let (type, arch) = c.qkNorm ? ("qwen3", "Qwen3ForCausalLM")
            : c.attentionBias ? ("qwen2", "Qwen2ForCausalLM") : ("llama", "LlamaForCausalLM")
        var json: [String: Any] = [
            "architectures": [arch], "model_type": type, "hidden_act": "silu", "torch_dtype": "float32",
            "vocab_size": c.vocabSize, "hidden_size": c.dim, "intermediate_size": c.ffnDim,
            "num_hidden_layers": c.nLayers, "num_attention_heads": c.nHeads, "num_key_value_heads": c.nKVHeads,
            "head_dim": c.headDim, "max_position_embeddings": c.maxSeqLen, "rms_norm_eps": Double(c.normEps),
            "rope_theta": Double(c.ropeTheta), "rope_scaling": NSNull(), "tie_word_embeddings": c.tiedEmbeddings,
            "attention_bias": c.attentionBias, "attention_dropout": 0.0, "use_cache": true,
        ]
        if type == "llama" { json["mlp_bias"] = false }
        if type != "llama" { json["use_sliding_window"] = false; json["sliding_window"] = NSNull() }
        json["eos_token_id"] = eos ?? NSNull()
        json["bos_token_id"] = bos ?? NSNull()
        json["pad_token_id"] = pad ?? NSNull()
        return json
    }

    /// A `tokenizer.json` equivalent to ``ByteTokenizer``.
    static func byteTokenizerJSON() -> Data {
        var vocab: [String: Int] = [:]
        for (b, s) in ByteLevelAlphabet.scalars.enumerated() { vocab[String(s)] = b }
        let added: [[String: Any]] = ByteTokenizer.specials.enumerated().map { i, s in
            ["id": 256 + i, "content": s, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": [String]()],
        ]
        return try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }

    /// A Jinja chat template rendering `format` as ``ChatTemplate`` does.
    public static func chatTemplate(_ format: ChatFormat) -> String {
        switch format {
        case .byte:
            return "{%- set ns = namespace(sys='') -%}{%- for m in messages -%}"
                + "{%- if m['role'] == 'system' or m['role'] == 'developer' -%}{%- set ns.sys = ns.sys + ('\\n\\n' if ns.sys else '') + m['content'] -%}"
                + "{%- elif m['role'] == 'user' -%}{{ '<|user|>' + (ns.sys + '\\n\\n' if ns.sys else '') + m['content'] + '<|endoftext|>' }}{%- set ns.sys = '' -%}"
                + "{%- else -%}{%- if ns.sys -%}{{ '<|user|>' + ns.sys + '<|endoftext|>' }}{%- set ns.sys = '' -%}{%- endif -%}"
                + "{{ '<|assistant|>' + m['content'] + '<|endoftext|>' }}{%- endif -%}{%- endfor -%}"
                + "{%- if ns.sys -%}{{ '<|user|>' + ns.sys + '<|endoftext|>' }}{%- endif -%}"
                + "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}"
        case .chatml:
            return "{%- for m in messages -%}{{ '<|im_start|>' + ('system' if m['role'] == 'developer' else m['role']) + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{%- endfor -%}"
                + "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
        case .llama3:
            return "{{ bos_token if bos_token else '' }}{%- for m in messages -%}{{ '<|start_header_id|>' + ('system' if m['role'] == 'developer' else m['role']) + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{%- endfor -%}"
                + "{%- if add_generation_prompt -%}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif -%}"
        case .plain:
            return "{%- for m in messages -%}{%- if m['role'] == 'assistant' -%}{{ 'Assistant:\\n' + m['content'] + eos_token + '\\n\\n' }}"
                + "{%- elif m['role'] == 'user' -%}{{ 'User:\\n' + m['content'] + '\\n\\n' }}{%- else -%}{{ 'System:\\n' + m['content'] + '\\n\\n' }}{%- endif -%}{%- endfor -%}"
                + "{%- if add_generation_prompt -%}{{ 'Assistant:\\n' }}{%- endif -%}"
        }
    }

    private static func write(_ data: Data, _ name: String, in dir: URL) throws {
        let url = dir.appendingPathComponent(name)
        do { try data.write(to: url, options: .atomic) } catch {
            throw ModelIOError.writeFailed(path: url.path, detail: error.localizedDescription)
        }
    }
}
