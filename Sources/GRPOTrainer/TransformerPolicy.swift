import Foundation
import TransformerModel

#if os(Linux)
@_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

/// The embedded transformer as a GRPO policy: KV-cache batched sampling (each prompt prefilled
/// once for its G completions), packed log-prob passes in which each group's prompt is also
/// computed once, AdamW with gradient clipping.
public final class TransformerPolicy: GRPOPolicy {
    public let model: Transformer
    public let tokenizer: any Tokenizer
    public let template: ChatTemplate
    public let optimizer: AdamW
    public var maxGradNorm: Float
    /// Log-probabilities (loss, ratios, KL) are taken at the rollout temperature, as in TRL and
    /// verl: the probabilities of the distribution the completions were sampled from.
    public var logProbTemperature: Float
    /// Free the forward activations after each update (lower peak memory between steps).
    public var releaseActivationsAfterUpdate = false
    /// The decode matrices packed for sampling, made at the first `sample` after the parameters
    /// last changed and dropped by `applyGradients` and `restore`.
    private var decodeWeights: DecodeWeights?

    public init(model: Transformer, tokenizer: any Tokenizer, template: ChatTemplate? = nil,
                hyperparameters h: Hyperparameters = Hyperparameters()) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.template = try template ?? ChatTemplate(tokenizer: tokenizer)
        self.optimizer = AdamW(layout: model.layout, beta1: Float(h.adamBeta1), beta2: Float(h.adamBeta2),
                               eps: Float(h.adamEpsilon), weightDecay: Float(h.weightDecay))
        self.maxGradNorm = Float(h.maxGradNorm)
        self.logProbTemperature = Float(h.temperature)
        Self.returnFreedMemory
    }

    /// Activation buffers are freed and reallocated as batch shapes change. glibc raises its mmap
    /// threshold after the first such free, after which freed buffers stay in the heap and the
    /// resident size ratchets up; a fixed 1 MiB threshold returns them to the system.
    static let returnFreedMemory: Void = {
        #if os(Linux)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 20)
        #endif
    }()

    /// Loads a policy from a checkpoint directory (rft's or Hugging Face's), with its tokenizer
    /// and chat format.
    public static func load(checkpoint: URL, hyperparameters: Hyperparameters) throws -> TransformerPolicy {
        let ckpt = try ModelCheckpoint(directory: checkpoint)
        return try TransformerPolicy(model: try ckpt.loadTransformer(), tokenizer: ckpt.tokenizer,
                                     template: try ckpt.chatTemplate(), hyperparameters: hyperparameters)
    }

    /// A randomly initialised model with the byte tokenizer.
    public static func scratch(_ config: ModelConfig, seed: UInt64, hyperparameters: Hyperparameters) throws -> TransformerPolicy {
        try TransformerPolicy(model: Transformer(config: config, seed: seed), tokenizer: ByteTokenizer(),
                              hyperparameters: hyperparameters)
    }

    public func encodePrompt(_ messages: [ChatMessage]) -> [Int] {
        // Roles were validated with the data; a template error would be a bug, so fall back to plain text.
        (try? template.prompt(messages)) ?? tokenizer.encode(messages.map(\.content).joined(separator: "\n"))
    }

    public func decode(_ tokens: [Int]) -> String {
        let stops = Set(template.stopTokenIDs)
        return tokenizer.decode(tokens.filter { !stops.contains($0) }, skipSpecial: true)
    }

    public func sample(prompts: [[Int]], count: Int, settings: SamplingSettings, seed: UInt64) throws -> [[SampledCompletion]] {
        var rng = RandomGenerator(seed: seed)
        // Keep room for the completion inside the model's context.
        let room = max(1, model.config.maxSeqLen - settings.maxNewTokens)
        let fitted = prompts.map { $0.count > room ? Array($0.suffix(room)) : $0 }
        let options = SamplingOptions(maxNewTokens: settings.maxNewTokens, temperature: Float(settings.temperature),
                                      topK: settings.topK, topP: Float(settings.topP),
                                      eosTokenIDs: Set(template.stopTokenIDs))
        // The sampler's log-probs are the model's own (temperature 1, before top-k/top-p): they are
        // π_old exactly when the rollout temperature is 1 and the whole prompt was seen.
        let weights = decodeWeights ?? DecodeWeights(model)
        decodeWeights = weights
        return try model.sample(prompts: fitted, completionsPerPrompt: count, options: options, rng: &rng,
                                weights: weights).enumerated().map { p, row in
            let exact = settings.temperature == 1 && fitted[p].count == prompts[p].count
            return row.map { SampledCompletion(tokens: $0.tokens, truncated: $0.finishReason == .length, logProbs: exact ? $0.logProbs : nil) }
        }
    }

    /// Consecutive sequences with the same prompt (a group) share the prompt's rows.
    func batch(_ seqs: [PolicySequence]) -> TokenBatch {
        var b = TokenBatch(prompts: seqs.map(\.prompt), completions: seqs.map(\.completion), sharePrompts: true)
        b.temperature = logProbTemperature
        return b
    }

    public func logProbs(_ seqs: [PolicySequence]) throws -> [[Float]] {
        // Forward only, in a one-layer buffer the model keeps between steps (a few MiB).
        try model.tokenLogProbs(batch(seqs), keepingActivations: false).logProbs
    }

    public func accumulateGradients(_ seqs: [PolicySequence], lossGradient: ([[Float]]) -> [[Float]]) throws -> GradientPass {
        let b = batch(seqs)
        let out = try model.tokenLogProbs(b)
        let d = lossGradient(out.logProbs)
        try model.backward(b, dLogProbs: d)
        var sum = 0.0, n = 0
        for row in out.entropies { for e in row { sum += Double(e); n += 1 } }
        return GradientPass(logp: out.logProbs, entropy: n > 0 ? sum / Double(n) : 0)
    }

    public func applyGradients(learningRate: Double) throws -> Double {
        decodeWeights = nil
        let norm = clipGradNorm(model.gradients, maxNorm: maxGradNorm)
        if norm.isFinite {
            optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: Float(learningRate))
        }
        model.zeroGrad()
        if releaseActivationsAfterUpdate { model.releaseActivations() }
        return Double(norm)
    }

    public func frozenCopy() throws -> GRPOPolicy {
        let copy = Transformer(config: model.config)
        copy.copyParameters(from: model)
        let ref = try TransformerPolicy(model: copy, tokenizer: tokenizer, template: template)
        ref.logProbTemperature = logProbTemperature
        return ref
    }

    public func save(to directory: URL) throws {
        try ModelCheckpoint.save(model, tokenizer: tokenizer, chatFormat: template.format, to: directory)
        try OptimizerCheckpoint.save(optimizer, layout: model.layout, to: directory)
    }

    public func restore(from directory: URL) throws {
        decodeWeights = nil
        try ModelCheckpoint(directory: directory).loadParameters(into: model.parameters)
        if OptimizerCheckpoint.exists(in: directory) {
            try OptimizerCheckpoint.load(into: optimizer, layout: model.layout, from: directory)
        }
        model.zeroGrad()
    }
}
