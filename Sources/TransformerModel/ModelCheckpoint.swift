import Foundation

/// A model checkpoint directory: rft's own, or a Hugging Face Llama/Qwen2/Qwen3 one.
///
/// rft's layout:
/// - `config.json`: ``ModelConfig`` (snake_case keys: `vocab_size`, `dim`, `n_layers`, ...)
/// - `model.safetensors`: F32 tensors named as in ``ParameterLayout`` (Hugging Face names)
/// - `rft_tokenizer.json`: `{"type": "byte" | "bpe", "chat_format", "eos_token", "bos_token", "pad_token"}`
/// - `tokenizer.json`: the Hugging Face tokenizer, for `bpe`
/// - optionally `optimizer.safetensors` + `optimizer.json` (see ``OptimizerCheckpoint``)
///
/// A Hugging Face directory (`config.json` with `hidden_size`, `model.safetensors` or
/// `model.safetensors.index.json`, `tokenizer.json`, optional `tokenizer_config.json`) is
/// mapped onto the same types; weights are converted to F32 on load.
///
///     let ckpt = try ModelCheckpoint(directory: url)
///     let model = Transformer(config: ckpt.config)
///     try ckpt.loadParameters(into: model.parameters)
///     let chat = try ckpt.chatTemplate()
public struct ModelCheckpoint: Sendable {
    public let directory: URL
    public let config: ModelConfig
    public let tokenizer: any Tokenizer
    public let chatFormat: ChatFormat
    /// True when the directory is a Hugging Face checkpoint rather than rft's own.
    public let isHuggingFace: Bool

    /// Reads the config and tokenizer (not the weights) of the checkpoint in `directory`.
    public init(directory: URL) throws {
        let configURL = directory.appendingPathComponent("config.json")
        let data = try ModelIOError.read(configURL, hint: "not a checkpoint directory")
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelIOError.malformed(path: configURL.path, detail: "not a JSON object")
        }
        let marker = directory.appendingPathComponent("rft_tokenizer.json")
        if json["hidden_size"] != nil || json["model_type"] != nil {
            isHuggingFace = true
            config = try ModelConfig(huggingFace: json, path: configURL.path)
            tokenizer = try BPETokenizer.load(directory: directory)
            chatFormat = ChatFormat.detect(tokenizer)
        } else {
            isHuggingFace = false
            do { config = try JSONDecoder().decode(ModelConfig.self, from: data) } catch {
                throw ModelIOError.malformed(path: configURL.path, detail: Self.describe(error))
            }
            (tokenizer, chatFormat) = try Self.readTokenizer(marker: marker, directory: directory)
        }
        guard tokenizer.vocabSize <= config.vocabSize else {
            throw ModelIOError.malformed(path: configURL.path,
                                         detail: "vocab_size \(config.vocabSize) is smaller than the tokenizer's \(tokenizer.vocabSize) ids")
        }
        self.directory = directory
    }

    /// The chat template for this checkpoint's tokenizer and format.
    public func chatTemplate() throws -> ChatTemplate { try ChatTemplate(tokenizer: tokenizer, format: chatFormat) }

    /// Loads the weights into `buffer` (laid out by `ParameterLayout(config)`), checking every
    /// tensor's name and shape.
    public func loadParameters(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try ParameterIO.load(directory: directory, layout: ParameterLayout(config), into: buffer)
    }

    /// A model with this checkpoint's config and weights.
    public func loadTransformer() throws -> Transformer {
        let model = Transformer(config: config)
        try loadParameters(into: model.parameters)
        return model
    }

    /// Writes an rft checkpoint into `directory` (created if needed; existing files replaced).
    public static func save(to directory: URL, config: ModelConfig, parameters: UnsafeBufferPointer<Float>,
                            tokenizer: any Tokenizer, chatFormat: ChatFormat? = nil) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelIOError.writeFailed(path: directory.path, detail: error.localizedDescription)
        }
        var marker: [String: Any] = ["chat_format": (chatFormat ?? ChatFormat.detect(tokenizer)).rawValue]
        switch tokenizer {
        case is ByteTokenizer:
            marker["type"] = "byte"
        case let bpe as BPETokenizer:
            marker["type"] = "bpe"
            marker["eos_token"] = bpe.eosToken
            marker["pad_token"] = bpe.padToken
            if let bos = bpe.bosToken { marker["bos_token"] = bos }
            try write(bpe.json, to: directory.appendingPathComponent("tokenizer.json"))
        default:
            throw ModelIOError.writeFailed(path: directory.path, detail: "cannot save a \(type(of: tokenizer)) tokenizer")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(try encoder.encode(config), to: directory.appendingPathComponent("config.json"))
        try write(try JSONSerialization.data(withJSONObject: marker, options: [.prettyPrinted, .sortedKeys]),
                  to: directory.appendingPathComponent("rft_tokenizer.json"))
        try ParameterIO.save(parameters, layout: ParameterLayout(config),
                             to: directory.appendingPathComponent("model.safetensors"))
    }

    /// Writes `model`'s config and weights as an rft checkpoint.
    public static func save(_ model: Transformer, tokenizer: any Tokenizer, chatFormat: ChatFormat? = nil,
                            to directory: URL) throws {
        try save(to: directory, config: model.config, parameters: UnsafeBufferPointer(model.parameters),
                 tokenizer: tokenizer, chatFormat: chatFormat)
    }

    private static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw ModelIOError.writeFailed(path: url.path, detail: error.localizedDescription)
        }
    }

    private static func readTokenizer(marker: URL, directory: URL) throws -> (any Tokenizer, ChatFormat) {
        let data = try ModelIOError.read(marker, hint: "an rft checkpoint needs it; a Hugging Face config.json needs hidden_size")
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelIOError.malformed(path: marker.path, detail: "not a JSON object")
        }
        let tokenizer: any Tokenizer
        switch json["type"] as? String {
        case "byte":
            tokenizer = ByteTokenizer()
        case "bpe":
            let file = directory.appendingPathComponent("tokenizer.json")
            let tdata = try ModelIOError.read(file, hint: "rft_tokenizer.json says bpe")
            tokenizer = try BPETokenizer(json: tdata, path: file.path, eos: json["eos_token"] as? String,
                                         bos: json["bos_token"] as? String, pad: json["pad_token"] as? String)
        case let t:
            throw ModelIOError.malformed(path: marker.path, detail: "type '\(t ?? "null")' is neither byte nor bpe")
        }
        let format: ChatFormat
        if let name = json["chat_format"] as? String {
            guard let f = ChatFormat(rawValue: name) else {
                throw ModelIOError.malformed(path: marker.path, detail: "chat_format '\(name)' is not one of \(ChatFormat.allCases.map(\.rawValue))")
            }
            format = f
        } else {
            format = ChatFormat.detect(tokenizer)
        }
        return (tokenizer, format)
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, ctx):
            return "missing key '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx):
            return "'\(ctx.codingPath.map(\.stringValue).joined(separator: "."))': \(ctx.debugDescription)"
        case let DecodingError.dataCorrupted(ctx):
            return ctx.debugDescription
        default:
            return "\(error)"
        }
    }
}
