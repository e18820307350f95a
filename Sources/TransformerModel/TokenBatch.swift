/// A batch of token sequences and which of their tokens are scored.
///
/// Token `t` of a sequence is *scored* when `lossMask[i][t]` is true: the model reports
/// `log p(token t | tokens 0..<t)` for it (and trains on it). Token 0 is never scored.
/// Sequences may differ in length; they are packed without padding, so no padding mask is needed.
///
///     // GRPO: score the completion tokens only. Consecutive rows with the same prompt
///     // (a group of G completions) run the prompt through the model once.
///     let batch = TokenBatch(prompts: [[1, 5, 9], [1, 5, 9]], completions: [[4, 2, 0], [7]])
///     // SFT: score the assistant tokens only.
///     let sft = TokenBatch(sequences: [tokens], lossMask: [isAssistant])
public struct TokenBatch: Equatable, Sendable {
    public var sequences: [[Int]]
    public var lossMask: [[Bool]]
    /// Prompt lengths, when consecutive sequences with the same prompt share its rows in the
    /// log-prob passes (set by `init(prompts:completions:sharePrompts:)`; nil: each sequence
    /// is packed whole). Results are the same either way, up to float rounding.
    public var sharedPromptLengths: [Int]?
    /// Log-probabilities are taken under `softmax(logits / temperature)`, the distribution the
    /// sampler draws from at that temperature (as TRL and verl do in their GRPO losses).
    /// Default 1; must be positive.
    public var temperature: Float = 1

    public init(sequences: [[Int]], lossMask: [[Bool]]) {
        self.sequences = sequences
        self.lossMask = lossMask
    }

    /// Sequences `prompts[i] + completions[i]`, scoring the completion tokens.
    ///
    /// With `sharePrompts` (the default), consecutive sequences with the same prompt are packed
    /// as the prompt once followed by each completion, whose tokens attend to the shared prompt:
    /// a GRPO group of G completions costs one prompt, not G.
    public init(prompts: [[Int]], completions: [[Int]], sharePrompts: Bool = true) {
        precondition(prompts.count == completions.count, "one completion per prompt row")
        sequences = zip(prompts, completions).map { $0 + $1 }
        lossMask = zip(prompts, completions).map {
            [Bool](repeating: false, count: $0.count) + [Bool](repeating: true, count: $1.count)
        }
        if sharePrompts { sharedPromptLengths = prompts.map(\.count) }
    }

    /// Scores every token from `completionStart[i]` on (every token after the first when nil).
    public init(sequences: [[Int]], completionStart: [Int]? = nil) {
        self.sequences = sequences
        lossMask = sequences.enumerated().map { i, s in
            let start = max(1, completionStart?[i] ?? 1)
            return (0..<s.count).map { $0 >= start }
        }
    }

    /// Number of scored tokens in sequence `i`.
    public func scoredCount(_ i: Int) -> Int { lossMask[i].lazy.filter { $0 }.count }

    /// Number of scored tokens in the batch.
    public var scoredCount: Int { lossMask.indices.reduce(0) { $0 + scoredCount($1) } }
}

/// Per-token results of `Transformer.tokenLogProbs`: one entry per scored token of each
/// sequence, in order (`logProbs[i].count == batch.scoredCount(i)`).
public struct TokenLogProbs: Equatable, Sendable {
    /// `log p(token | prefix)` under the model.
    public var logProbs: [[Float]]
    /// Entropy (nats) of the model's next-token distribution at each scored position.
    public var entropies: [[Float]]
}

/// Invalid input to the model, naming the sequence and position.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case emptySequence(sequence: Int)
    case maskLengthMismatch(sequence: Int, tokens: Int, mask: Int)
    case firstTokenScored(sequence: Int)
    case tokenOutOfRange(sequence: Int, position: Int, token: Int, vocabSize: Int)
    case sequenceTooLong(sequence: Int, length: Int, maxSeqLen: Int)
    case gradientShapeMismatch(sequence: Int, expected: Int, got: Int)
    case backwardWithoutMatchingForward
    case invalidSampling(String)
    case parameterCountMismatch(expected: Int, got: Int)
    case invalidConfig(field: String, reason: String)

    public var description: String {
        switch self {
        case let .emptySequence(s): return "sequence \(s): empty"
        case let .maskLengthMismatch(s, t, m): return "sequence \(s): \(t) tokens but a loss mask of \(m)"
        case let .firstTokenScored(s): return "sequence \(s): token 0 cannot be scored (nothing precedes it)"
        case let .tokenOutOfRange(s, p, t, v): return "sequence \(s), position \(p): token \(t) outside vocabulary 0..<\(v)"
        case let .sequenceTooLong(s, l, m): return "sequence \(s): length \(l) exceeds max_seq_len \(m)"
        case let .gradientShapeMismatch(s, e, g): return "sequence \(s): dLogProbs has \(g) entries, expected \(e) (one per scored token)"
        case .backwardWithoutMatchingForward: return "backward needs a forward pass (tokenLogProbs) on the same batch first"
        case let .invalidSampling(m): return "sampling: \(m)"
        case let .parameterCountMismatch(e, g): return "parameter buffer: expected \(e) floats, got \(g)"
        case let .invalidConfig(f, r): return "model config: \(f) \(r)"
        }
    }
}

/// A `TokenBatch` packed row after row (no padding), as the kernels see it.
///
/// Plain layout: each sequence is one attention segment of its own rows.
/// Shared-prompt layout (`TokenBatch.sharedPromptLengths`): a run of consecutive sequences
/// with the same prompt p (length P) and completions c₁…c_G becomes
///
///     [p₀ … p_{P−1}] [c₁₀ … c₁_{|c₁|−2}] … [c_G₀ … c_G_{|c_G|−2}]
///
/// The prompt is a plain segment; each completion is a segment whose rows sit at positions
/// P, P+1, … and attend to the prompt's rows as a prefix. A completion's last token is only a
/// target (nothing reads its row), so it gets no row; its first token is predicted by the
/// prompt's last row, which therefore predicts G tokens.
struct PackedBatch {
    /// Rows `[start, start + length)` attend causally to themselves, after `prefixLength` rows
    /// of `[prefixStart, prefixStart + prefixLength)` (their shared prompt; 0 for none).
    struct Segment {
        var start: Int, length: Int
        var prefixStart = 0, prefixLength = 0
    }

    var tokens: [Int32] = []
    var positions: [Int32] = []
    var segments: [Segment] = []
    /// Scored token k is predicted by packed row `predRows[k]` and is `targets[k]`
    /// (sequence after sequence, in token order; a row may predict several tokens).
    var predRows: [Int] = []
    var targets: [Int32] = []
    var scoredPerSequence: [Int] = []
    /// 1 / `TokenBatch.temperature`: the head's logits are `invTemperature · xf · Wheadᵀ`.
    var invTemperature: Float = 1
    var rows: Int { tokens.count }
    /// The most key rows any segment attends to.
    var maxKeys: Int { segments.map { $0.prefixLength + $0.length }.max() ?? 0 }
    /// The most floats one head's attention probabilities take (`causalBlockSize`).
    var attentionFloats: Int { segments.map { causalBlockSize($0.length, prefix: $0.prefixLength) }.max() ?? 0 }

    init(_ batch: TokenBatch, config: ModelConfig) throws {
        guard batch.sequences.count == batch.lossMask.count else {
            throw ModelError.maskLengthMismatch(sequence: min(batch.sequences.count, batch.lossMask.count),
                                                tokens: batch.sequences.count, mask: batch.lossMask.count)
        }
        guard batch.temperature > 0, batch.temperature.isFinite else {
            throw ModelError.invalidSampling("log-prob temperature must be positive and finite, got \(batch.temperature)")
        }
        invTemperature = 1 / batch.temperature
        for (i, seq) in batch.sequences.enumerated() {
            let mask = batch.lossMask[i]
            guard !seq.isEmpty else { throw ModelError.emptySequence(sequence: i) }
            guard mask.count == seq.count else {
                throw ModelError.maskLengthMismatch(sequence: i, tokens: seq.count, mask: mask.count)
            }
            guard !mask[0] else { throw ModelError.firstTokenScored(sequence: i) }
            guard seq.count <= config.maxSeqLen else {
                throw ModelError.sequenceTooLong(sequence: i, length: seq.count, maxSeqLen: config.maxSeqLen)
            }
            for (t, tok) in seq.enumerated() where tok < 0 || tok >= config.vocabSize {
                throw ModelError.tokenOutOfRange(sequence: i, position: t, token: tok, vocabSize: config.vocabSize)
            }
        }
        if let P = batch.sharedPromptLengths, Self.isPromptCompletion(batch, promptLengths: P) {
            packSharingPrompts(batch, promptLengths: P)
        } else {
            packPlain(batch)
        }
    }

    /// Whether every mask is `P` false then true (what `init(prompts:completions:)` builds).
    static func isPromptCompletion(_ batch: TokenBatch, promptLengths P: [Int]) -> Bool {
        guard P.count == batch.sequences.count else { return false }
        return batch.lossMask.indices.allSatisfy { i in
            let m = batch.lossMask[i]
            return P[i] >= 1 && P[i] <= m.count && !m[..<P[i]].contains(true) && !m[P[i]...].contains(false)
        }
    }

    private mutating func packPlain(_ batch: TokenBatch) {
        for (i, seq) in batch.sequences.enumerated() {
            let start = rows, mask = batch.lossMask[i]
            segments.append(Segment(start: start, length: seq.count))
            var scored = 0
            for (t, tok) in seq.enumerated() {
                tokens.append(Int32(tok)); positions.append(Int32(t))
                if mask[t] { predRows.append(start + t - 1); targets.append(Int32(tok)); scored += 1 }
            }
            scoredPerSequence.append(scored)
        }
    }

    private mutating func packSharingPrompts(_ batch: TokenBatch, promptLengths: [Int]) {
        let seqs = batch.sequences
        var promptStart = 0, P = 0
        for i in seqs.indices {
            P = promptLengths[i]
            let seq = seqs[i]
            if i == 0 || promptLengths[i - 1] != P || !seqs[i - 1][..<P].elementsEqual(seq[..<P]) {
                // A new group: its prompt rows, once.
                promptStart = rows
                segments.append(Segment(start: promptStart, length: P))
                for t in 0..<P { tokens.append(Int32(seq[t])); positions.append(Int32(t)) }
            }
            // The completion's rows (all but its last token), after the shared prompt.
            let C = seq.count - P, start = rows
            if C > 1 {
                segments.append(Segment(start: start, length: C - 1, prefixStart: promptStart, prefixLength: P))
                for t in P..<(seq.count - 1) { tokens.append(Int32(seq[t])); positions.append(Int32(t)) }
            }
            for j in 0..<C {
                predRows.append(j == 0 ? promptStart + P - 1 : start + j - 1)
                targets.append(Int32(seq[P + j]))
            }
            scoredPerSequence.append(C)
        }
    }

    /// Splits a flat per-scored-token array into one array per sequence.
    func split(_ flat: [Float]) -> [[Float]] {
        var out: [[Float]] = [], k = 0
        for n in scoredPerSequence { out.append(Array(flat[k..<(k + n)])); k += n }
        return out
    }
}
