import XCTest
@testable import TransformerModel

final class SamplingTests: XCTestCase {
    let config = ModelConfig(vocabSize: 13, dim: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 24, maxSeqLen: 24)

    /// The KV-cache path (prefill in one step, then one token per step) gives the same
    /// log-probabilities as the training forward pass, for every model variant.
    func testCachedDecodingMatchesFullForward() throws {
        for config in [ModelGradientTests.llama, ModelGradientTests.qwen2, ModelGradientTests.qwen3] {
            let model = ModelGradientTests.randomModel(config, seed: 9)
            let prompt = [3, 1, 4, 1, 5], continuation = [9, 2, 6, 5, 3]
            let full = prompt + continuation
            let reference = try model.tokenLogProbs(TokenBatch(sequences: [full])).logProbs[0]

            let V = config.vocabSize
            let promptCache = KVCache(config: config, slots: 2, capacity: prompt.count)
            let cache = KVCache(config: config, slots: 3, capacity: continuation.count)
            let s = DecodeScratch(config: config, rows: prompt.count, logitRows: prompt.count, capacity: full.count)
            func logp(row: Int, token: Int) -> Float {
                let z = s.logits + row * V
                let mx = (0..<V).map { z[$0] }.max()!
                return z[token] - mx - log((0..<V).map { exp(z[$0] - mx) }.reduce(0, +))
            }
            // Prefill into prompt slot 1, with logits on every prompt row.
            model.cachedStep(tokens: prompt.map(Int32.init), slots: [Int32](repeating: 1, count: prompt.count),
                             positions: (0..<prompt.count).map(Int32.init), logitRows: Array(prompt.indices),
                             cache: promptCache, s: s)
            for t in 1..<prompt.count {
                XCTAssertEqual(logp(row: t - 1, token: full[t]), reference[t - 1], accuracy: 1e-4)
            }
            XCTAssertEqual(logp(row: prompt.count - 1, token: full[prompt.count]), reference[prompt.count - 1], accuracy: 1e-4)
            // Decode in completion slot 2, reading the shared prompt prefix.
            let prefix = CachePrefix(cache: promptCache, slots: [1], lengths: [Int32(prompt.count)])
            for t in prompt.count..<(full.count - 1) {
                model.cachedStep(tokens: [Int32(full[t])], slots: [2], positions: [Int32(t)], logitRows: [0],
                                 cache: cache, prefix: prefix, s: s)
                XCTAssertEqual(logp(row: 0, token: full[t + 1]), reference[t], accuracy: 1e-4, "\(config) position \(t)")
            }
        }
    }

    /// Greedy completions pick the most likely next token under the scoring forward pass.
    func testGreedyPicksArgmaxOfTokenLogProbs() throws {
        let model = ModelGradientTests.randomModel(ModelGradientTests.qwen3, seed: 4)
        var rng = RandomGenerator(seed: 0)
        let prompts = [[1, 2, 3], [7]]
        let out = try model.sample(prompts: prompts, completionsPerPrompt: 2,
                                   options: SamplingOptions(maxNewTokens: 4, temperature: 0), rng: &rng)
        let V = model.config.vocabSize
        for (p, prompt) in prompts.enumerated() {
            XCTAssertEqual(out[p][0], out[p][1], "greedy completions of one prompt are identical")
            var prefix = prompt
            for tok in out[p][0].tokens {
                let candidates = TokenBatch(sequences: (0..<V).map { prefix + [$0] },
                                            lossMask: (0..<V).map { _ in [Bool](repeating: false, count: prefix.count) + [true] })
                let lp = try model.tokenLogProbs(candidates).logProbs.map { $0[0] }
                XCTAssertEqual(tok, lp.indices.max { lp[$0] < lp[$1] })
                prefix.append(tok)
            }
        }
    }

    func testSeededSamplingIsReproducible() throws {
        let model = Transformer(config: config, seed: 1)
        let options = SamplingOptions(maxNewTokens: 8, temperature: 1)
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let x = try model.sample(prompts: [[1, 2], [3]], completionsPerPrompt: 4, options: options, rng: &a)
        let y = try model.sample(prompts: [[1, 2], [3]], completionsPerPrompt: 4, options: options, rng: &b)
        let z = try model.sample(prompts: [[1, 2], [3]], completionsPerPrompt: 4, options: options, rng: &c)
        XCTAssertEqual(x, y)
        XCTAssertNotEqual(x, z)
        XCTAssertEqual(a, b, "generators advanced identically")
        // The G completions of one prompt are independent samples.
        XCTAssertGreaterThan(Set(x[0].map(\.tokens)).count, 1)
    }

    func testEOSStopStringsAndLengthLimits() throws {
        let model = Transformer(config: config, seed: 2)
        var rng = RandomGenerator(seed: 1)
        let eos = try model.sample(prompts: [[1]], completionsPerPrompt: 3,
                                   options: SamplingOptions(maxNewTokens: 10, eosTokenIDs: Set(0..<13)), rng: &rng)
        for c in eos[0] { XCTAssertEqual(c.tokens.count, 1); XCTAssertEqual(c.finishReason, .eos) }

        let stop = SamplingOptions(maxNewTokens: 10, stopStrings: ["STOP"],
                                   decode: { $0.count >= 3 ? "ab STOP" : "ab" })
        for c in try model.sample(prompts: [[1], [2, 3]], completionsPerPrompt: 2, options: stop, rng: &rng).joined() {
            XCTAssertEqual(c.tokens.count, 3); XCTAssertEqual(c.finishReason, .stop)
        }

        let long = try model.sample(prompts: [[1, 2], Array(repeating: 5, count: config.maxSeqLen - 2)],
                                    completionsPerPrompt: 2, options: SamplingOptions(maxNewTokens: 6), rng: &rng)
        XCTAssertEqual(long[0].map(\.tokens.count), [6, 6])
        XCTAssertEqual(long[1].map(\.tokens.count), [2, 2], "bounded by max_seq_len")
        XCTAssertTrue(long.joined().allSatisfy { $0.finishReason == .length })
    }

    func testTopKAndTopPRestrictTheChoice() throws {
        let model = ModelGradientTests.randomModel(config, seed: 8)
        var rng = RandomGenerator(seed: 3)
        let greedy = try model.sample(prompts: [[1, 2]], options: SamplingOptions(maxNewTokens: 5, temperature: 0), rng: &rng)
        for options in [SamplingOptions(maxNewTokens: 5, topK: 1), SamplingOptions(maxNewTokens: 5, topP: 1e-6)] {
            XCTAssertEqual(try model.sample(prompts: [[1, 2]], options: options, rng: &rng), greedy)
        }
        // One-token completions with top-k 3 only ever use the 3 most likely tokens.
        let V = config.vocabSize
        let lp = try model.tokenLogProbs(TokenBatch(sequences: (0..<V).map { [1, 2, $0] },
                                                    lossMask: (0..<V).map { _ in [false, false, true] })).logProbs.map { $0[0] }
        let top3 = Set(lp.indices.sorted { lp[$0] > lp[$1] }.prefix(3))
        let k3 = try model.sample(prompts: [[1, 2]], completionsPerPrompt: 300,
                                  options: SamplingOptions(maxNewTokens: 1, topK: 3), rng: &rng)
        let seen = Set(k3[0].map { $0.tokens[0] })
        XCTAssertEqual(seen, top3)
        // Top-p 0.6: the smallest most-likely set holding 60% of the mass.
        let ranked = lp.indices.sorted { lp[$0] > lp[$1] }
        var nucleus = Set<Int>(), mass: Float = 0
        for v in ranked where mass < 0.6 { nucleus.insert(v); mass += exp(lp[v]) }
        let p6 = try model.sample(prompts: [[1, 2]], completionsPerPrompt: 600,
                                  options: SamplingOptions(maxNewTokens: 1, topP: 0.6), rng: &rng)
        XCTAssertEqual(Set(p6[0].map { $0.tokens[0] }), nucleus)
        XCTAssertGreaterThan(nucleus.count, 1)
    }

    func testKthLargest() {
        var rng = RandomGenerator(seed: 2)
        for n in [1, 2, 7, 100] {
            var x = (0..<n).map { _ in Float(rng.next() % 10) }   // many ties
            let sorted = x.sorted(by: >)
            for k in 1...n {
                XCTAssertEqual(x.withUnsafeMutableBufferPointer { kthLargest($0.baseAddress!, n, k) }, sorted[k - 1])
            }
        }
    }

    /// Temperature-1 samples follow the model's distribution.
    func testSampleFrequenciesFollowTheModel() throws {
        let model = ModelGradientTests.randomModel(config, seed: 6)
        let V = config.vocabSize, n = 4000
        let lp = try model.tokenLogProbs(TokenBatch(sequences: (0..<V).map { [4, $0] },
                                                    lossMask: (0..<V).map { _ in [false, true] })).logProbs.map { $0[0] }
        var rng = RandomGenerator(seed: 10)
        let out = try model.sample(prompts: [[4]], completionsPerPrompt: n, options: SamplingOptions(maxNewTokens: 1), rng: &rng)
        var counts = [Int](repeating: 0, count: V)
        for c in out[0] { counts[c.tokens[0]] += 1 }
        for v in 0..<V {
            let p = Double(exp(lp[v])), sd = (p * (1 - p) / Double(n)).squareRoot()
            XCTAssertEqual(Double(counts[v]) / Double(n), p, accuracy: 5 * sd + 1e-3, "token \(v)")
        }
    }

    func testInvalidPromptsAreTypedErrors() {
        let model = Transformer(config: config, seed: 1)
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try model.sample(prompts: [[1], []], options: SamplingOptions(), rng: &rng)) {
            XCTAssertEqual($0 as? ModelError, .emptySequence(sequence: 1))
        }
        XCTAssertThrowsError(try model.sample(prompts: [[1, 99]], options: SamplingOptions(), rng: &rng)) {
            XCTAssertEqual($0 as? ModelError, .tokenOutOfRange(sequence: 0, position: 1, token: 99, vocabSize: 13))
        }
        XCTAssertThrowsError(try model.sample(prompts: [[1]], options: SamplingOptions(stopStrings: ["x"]), rng: &rng))
    }
}
