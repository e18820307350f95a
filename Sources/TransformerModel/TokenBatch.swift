/// A batch of token sequences and which of their tokens are scored.
///
/// Token `t` of a sequence is *scored* when `lossMask[i][t]` is true: the model reports
/// `log p(token t | tokens 0..<t)` for it (and trains on it). Token 0 is never scored.
/// Sequences may differ in length; they are packed without padding, so no padding mask is needed.
///
///     // GRPO: score the completion tokens only.
///     let batch = TokenBatch(prompts: [[1, 5, 9]], completions: [[4, 2, 0]])
///     // SFT: score the assistant tokens only.
///     let sft = TokenBatch(sequences: [tokens], lossMask: [isAssistant])
public struct TokenBatch: Equatable, Sendable {
    public var sequences: [[Int]]
    public var lossMask: [[Bool]]

    public init(sequences: [[Int]], lossMask: [[Bool]]) {
        self.sequences = sequences
        self.lossMask = lossMask
    }

    /// Sequences `prompts[i] + completions[i]`, scoring the completion tokens.
    public init(prompts: [[Int]], completions: [[Int]]) {
        precondition(prompts.count == completions.count, "one completion per prompt row")
        sequences = zip(prompts, completions).map { $0 + $1 }
        lossMask = zip(prompts, completions).map {
            [Bool](repeating: false, count: $0.count) + [Bool](repeating: true, count: $1.count)
        }
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
struct PackedBatch {
    var tokens: [Int32] = []
    var positions: [Int32] = []
    var starts: [Int] = []
    var lengths: [Int] = []
    /// Offset of each sequence's `[nHeads, causalBlockSize(L)]` attention probabilities within one layer.
    var probOffsets: [Int] = []
    var probsPerLayer = 0
    /// Scored token k is predicted by packed row `predRows[k]` and is `targets[k]`.
    var predRows: [Int] = []
    var targets: [Int32] = []
    var scoredPerSequence: [Int] = []
    var rows: Int { tokens.count }
    var maxLength: Int { lengths.max() ?? 0 }

    init(_ batch: TokenBatch, config: ModelConfig) throws {
        guard batch.sequences.count == batch.lossMask.count else {
            throw ModelError.maskLengthMismatch(sequence: min(batch.sequences.count, batch.lossMask.count),
                                                tokens: batch.sequences.count, mask: batch.lossMask.count)
        }
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
            let start = tokens.count
            starts.append(start); lengths.append(seq.count)
            probOffsets.append(probsPerLayer)
            probsPerLayer += config.nHeads * causalBlockSize(seq.count)
            var scored = 0
            for (t, tok) in seq.enumerated() {
                guard tok >= 0 && tok < config.vocabSize else {
                    throw ModelError.tokenOutOfRange(sequence: i, position: t, token: tok, vocabSize: config.vocabSize)
                }
                tokens.append(Int32(tok)); positions.append(Int32(t))
                if mask[t] { predRows.append(start + t - 1); targets.append(Int32(tok)); scored += 1 }
            }
            scoredPerSequence.append(scored)
        }
    }

    /// Splits a flat per-scored-token array into one array per sequence.
    func split(_ flat: [Float]) -> [[Float]] {
        var out: [[Float]] = [], k = 0
        for n in scoredPerSequence { out.append(Array(flat[k..<(k + n)])); k += n }
        return out
    }
}
