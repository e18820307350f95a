import Foundation
import TransformerModel

/// A checkpoint loaded for serving: the policy, its tokenizer and chat format. Generations run one at
/// a time on a dedicated thread (the model's scratch buffers are not shared between calls).
public final class ChatModel: @unchecked Sendable {
    /// The id clients pass as `model` and see in `GET /v1/models`.
    public let id: String
    public let config: ModelConfig
    private let transformer: Transformer
    private let template: ChatTemplate
    private let queue = DispatchQueue(label: "rft.model-server.generate")

    /// Loads an rft or Hugging Face checkpoint directory.
    public init(checkpoint: URL, id: String? = nil) throws {
        let ckpt = try ModelCheckpoint(directory: checkpoint)
        transformer = try ckpt.loadTransformer()
        template = try ckpt.chatTemplate()
        config = ckpt.config
        self.id = id ?? checkpoint.standardizedFileURL.lastPathComponent
    }

    /// What to generate.
    struct Request: Sendable {
        var messages: [ChatMessage]
        var maxTokens: Int?
        var temperature: Float
        var topP: Float
        var topK: Int
        var n: Int
        var stop: [String]
        var seed: UInt64
    }

    struct Choice: Sendable {
        var text: String
        var finishReason: String
        var tokens: Int
    }

    struct Result: Sendable {
        var choices: [Choice]
        var promptTokens: Int
    }

    /// A request the model cannot take (the prompt is too long, a role is unknown...).
    struct InvalidRequest: Error { var message: String }

    /// Never matches generated text: returned by the decode hook to stop a generation early.
    private static let cancelMarker = "\u{0}rft-cancelled\u{0}"

    /// Generates on the model's thread. `onText` (n = 1 only) receives each new piece of text as it is
    /// decoded; `isCancelled` is polled after every token and ends the generation when it turns true.
    func generate(_ request: Request, onText: (@Sendable (String) -> Void)? = nil,
                  isCancelled: @escaping @Sendable () -> Bool = { false }) async throws -> Result {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Result, Error>) in
            queue.async {
                c.resume(with: Swift.Result { try self.generateNow(request, onText: onText, isCancelled: isCancelled) })
            }
        }
    }

    private func generateNow(_ request: Request, onText: (@Sendable (String) -> Void)?,
                             isCancelled: @escaping @Sendable () -> Bool) throws -> Result {
        let prompt: [Int]
        do { prompt = try template.prompt(request.messages) } catch { throw InvalidRequest(message: "\(error)") }
        guard !prompt.isEmpty else { throw InvalidRequest(message: "the messages encode to no tokens") }
        let room = config.maxSeqLen - prompt.count
        guard room > 0 else {
            throw InvalidRequest(message: "the prompt is \(prompt.count) tokens; this model's context is \(config.maxSeqLen) tokens")
        }
        let maxNew = min(request.maxTokens ?? room, room)
        let tokenizer = template.tokenizer
        let streamer = TextStreamer(tokenizer: tokenizer, stops: request.stop, onText: onText)
        let options = SamplingOptions(
            maxNewTokens: maxNew, temperature: request.temperature, topK: request.topK, topP: request.topP,
            eosTokenIDs: Set(template.stopTokenIDs), stopStrings: request.stop + [Self.cancelMarker],
            decode: { ids in
                // The sampler calls this after every token to look for stop strings: stream from here.
                if isCancelled() { return ChatModel.cancelMarker }
                let text = tokenizer.decode(ids, skipSpecial: true)
                if request.n == 1 { streamer.update(ids) }
                return text
            })
        var rng = RandomGenerator(seed: request.seed)
        let out: [Completion]
        do {
            out = try transformer.sample(prompts: [prompt], completionsPerPrompt: request.n, options: options, rng: &rng)[0]
        } catch {
            throw InvalidRequest(message: "\(error)")
        }
        let choices = out.map { c -> Choice in
            var text = tokenizer.decode(c.tokens, skipSpecial: true)
            var reason = c.finishReason == .length ? "length" : "stop"
            // OpenAI leaves the stop string out of the content.
            if let cut = request.stop.compactMap({ text.range(of: $0)?.lowerBound }).min() {
                text = String(text[..<cut])
                reason = "stop"
            }
            return Choice(text: text, finishReason: reason, tokens: c.tokens.count)
        }
        if request.n == 1 { streamer.finish(final: choices[0].text) }
        return Result(choices: choices, promptTokens: prompt.count)
    }
}

/// Turns the growing token list into text deltas: only whole UTF-8 characters, and never text that
/// could still become a stop string (that part is held back until it is known not to be one).
private final class TextStreamer: @unchecked Sendable {
    let tokenizer: any Tokenizer
    let stops: [String]
    let onText: (@Sendable (String) -> Void)?
    private var sent = 0  // bytes of the final text already emitted

    init(tokenizer: any Tokenizer, stops: [String], onText: (@Sendable (String) -> Void)?) {
        self.tokenizer = tokenizer
        self.stops = stops
        self.onText = onText
    }

    func update(_ ids: [Int]) {
        guard onText != nil else { return }
        var bytes = tokenizer.decodeBytes(ids, skipSpecial: true)
        // Drop an incomplete UTF-8 sequence at the end.
        var cut = bytes.count
        var back = 0
        while cut > 0, back < 4, bytes[cut - 1] & 0xC0 == 0x80 { cut -= 1; back += 1 }
        if cut > 0, bytes[cut - 1] >= 0xC0 {
            let lead = bytes[cut - 1]
            let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            if back + 1 < need { bytes.removeLast(bytes.count - (cut - 1)) }
        }
        // Hold back a tail that could be the start of a stop string, and everything from a stop string on.
        var text = String(decoding: bytes, as: UTF8.self)
        if let hit = stops.compactMap({ text.range(of: $0)?.lowerBound }).min() { text = String(text[..<hit]) }
        var safe = text.utf8.count
        for s in stops where !s.isEmpty {
            for k in stride(from: min(s.utf8.count - 1, text.utf8.count), to: 0, by: -1)
            where text.utf8.suffix(k).elementsEqual(s.utf8.prefix(k)) {
                safe = min(safe, text.utf8.count - k)
                break
            }
        }
        emit(upTo: safe, of: text)
    }

    func finish(final: String) { emit(upTo: final.utf8.count, of: final) }

    private func emit(upTo end: Int, of text: String) {
        guard let onText, end > sent else { return }
        let utf8 = Array(text.utf8)
        guard end <= utf8.count else { return }
        onText(String(decoding: utf8[sent..<end], as: UTF8.self))
        sent = end
    }
}
