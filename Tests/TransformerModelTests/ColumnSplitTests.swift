import XCTest
@testable import TransformerModel

/// Sampling steps split by output columns (`cachedStep(parts:)`) give the logits of the plain
/// one-thread step, and sampling draws the same tokens whichever way (and on however many
/// threads) its steps are split.
final class ColumnSplitTests: XCTestCase {
    /// Wide enough that every linear map spans several 16-column blocks: GQA with fused q/k/v, and
    /// Qwen2-style biases (q, k, v as separate pieces).
    static let configs = [
        ModelConfig(vocabSize: 53, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 80, maxSeqLen: 32),
        ModelConfig(vocabSize: 37, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 4, ffnDim: 72, maxSeqLen: 32,
                    tiedEmbeddings: true, attentionBias: true),
        ModelConfig(vocabSize: 29, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 48, maxSeqLen: 32, qkNorm: true),
    ]

    /// Prefill three prompts (their rows interleaving nothing: one slot each) and decode a step of
    /// six rows over them; returns the logits of both steps.
    func steps(_ model: Transformer, weights: DecodeWeights?, parts: Int) -> [Float] {
        let c = model.config, V = c.vocabSize
        let prompts = [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10, 11]]
        let promptCache = KVCache(config: c, slots: 3, capacity: 5), cache = KVCache(config: c, slots: 6, capacity: 2)
        let s = DecodeScratch(config: c, rows: 11, logitRows: 11, capacity: 8, parts: parts)
        let rows = prompts.enumerated().flatMap { p, prompt in prompt.indices.map { (p, $0, prompt[$0]) } }
        model.cachedStep(tokens: rows.map { Int32($0.2) }, slots: rows.map { Int32($0.0) },
                         positions: rows.map { Int32($0.1) }, logitRows: Array(rows.indices),
                         cache: promptCache, s: s, weights: weights, parts: parts)
        var out = Array(UnsafeBufferPointer(start: s.logits, count: rows.count * V))
        let slots = (0..<6).map { $0 / 2 }
        let prefix = CachePrefix(cache: promptCache, slots: slots.map(Int32.init), lengths: slots.map { Int32(prompts[$0].count) })
        model.cachedStep(tokens: (0..<6).map { Int32(12 + $0) }, slots: (0..<6).map(Int32.init),
                         positions: slots.map { Int32(prompts[$0].count) }, logitRows: Array(0..<6),
                         cache: cache, prefix: prefix, s: s, weights: weights, parts: parts)
        out += Array(UnsafeBufferPointer(start: s.logits, count: 6 * V))
        return out
    }

    func testColumnSplitStepMatchesPlainStep() {
        for config in Self.configs {
            let model = ModelGradientTests.randomModel(config, seed: 5)
            let reference = steps(model, weights: nil, parts: 1)
            let weights = DecodeWeights(model)
            for parts in [2, 3] {
                let logits = steps(model, weights: weights, parts: parts)
                assertClose(logits, reference, accuracy: 1e-5)
                XCTAssertEqual(logits, steps(model, weights: weights, parts: parts), "same bits per split")
            }
        }
    }

    /// Column split (the default at these sizes), sequence split (`columnSplitRows = 0`) and one
    /// thread draw the same tokens with the same log-probs to rounding.
    func testSamplingAgreesAcrossSplits() throws {
        for config in Self.configs {
            let model = ModelGradientTests.randomModel(config, seed: 6)
            let prompts = [[1, 2, 3], [4], [5, 6, 7, 8, 9], [2, 2]]
            func run(_ threads: Int, columnSplitRows: Int) throws -> [[Completion]] {
                model.threads = threads
                model.columnSplitRows = columnSplitRows
                var rng = RandomGenerator(seed: 8)
                return try model.sample(prompts: prompts, completionsPerPrompt: 3,
                                        options: SamplingOptions(maxNewTokens: 8, temperature: 1, eosTokenIDs: [0]), rng: &rng)
            }
            let one = try run(1, columnSplitRows: 64)
            for threads in [2, 3] {
                for rows in [64, 0] {
                    let many = try run(threads, columnSplitRows: rows)
                    XCTAssertEqual(many, try run(threads, columnSplitRows: rows))
                    XCTAssertEqual(many.map { $0.map(\.tokens) }, one.map { $0.map(\.tokens) }, "threads \(threads) rows \(rows)")
                    assertClose(Array(many.joined().map(\.logProbs).joined()), Array(one.joined().map(\.logProbs).joined()))
                }
            }
        }
    }

    func testColumnRangesAreAlignedAndCoverAll() {
        XCTAssertEqual(columnRanges(100, parts: 3), [0..<32, 32..<64, 64..<100])
        XCTAssertEqual(columnRanges(12, parts: 3), [0..<12])
        XCTAssertEqual(columnRanges(260, parts: 2), [0..<128, 128..<260])
    }
}
