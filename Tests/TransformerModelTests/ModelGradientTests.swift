import XCTest
@testable import TransformerModel

/// The whole model's backward against finite differences, for the Llama, Qwen2 and Qwen3 variants.
final class ModelGradientTests: XCTestCase {
    static let llama = ModelConfig(vocabSize: 11, dim: 8, nLayers: 2, nHeads: 2, nKVHeads: 1, ffnDim: 12,
                                   maxSeqLen: 16, tiedEmbeddings: false)
    static let qwen2 = ModelConfig(vocabSize: 11, dim: 8, nLayers: 2, nHeads: 2, nKVHeads: 2, ffnDim: 12,
                                   maxSeqLen: 16, ropeTheta: 1_000_000, normEps: 1e-6, tiedEmbeddings: true,
                                   attentionBias: true)
    static let qwen3 = ModelConfig(vocabSize: 11, dim: 8, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 12,
                                   maxSeqLen: 16, headDim: 4, tiedEmbeddings: true, qkNorm: true)

    static let batch = TokenBatch(sequences: [[1, 4, 2, 9, 3], [7, 0, 5], [2, 2, 8, 1, 6, 10, 4]],
                                  lossMask: [[false, false, true, true, true], [false, true, true],
                                             [false, false, false, true, true, false, true]])

    /// A model with O(1) random weights, so every gradient is well above finite-difference noise.
    static func randomModel(_ config: ModelConfig, seed: UInt64) -> Transformer {
        let model = Transformer(config: config)
        var rng = RandomGenerator(seed: seed)
        for t in model.layout.tensors {
            let p = model.parameter(t.name)!
            let isNorm = t.name.hasSuffix("norm.weight")
            for i in p.indices { p[i] = isNorm ? 1 + 0.2 * rng.nextGaussian() : 0.4 * rng.nextGaussian() }
        }
        return model
    }

    /// Checks every parameter's gradient of Σ c ⊙ logp against finite differences, with the
    /// model's passes split across `threads` threads (gradients reduced in part order).
    static func checkLogProbGradients(_ config: ModelConfig, batch: TokenBatch = batch, threads: Int = 1,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let model = Self.randomModel(config, seed: 11)
        model.threads = threads
        var rng = RandomGenerator(seed: 5)
        let weights = batch.lossMask.indices.map { i in (0..<batch.scoredCount(i)).map { _ in rng.nextGaussian() } }
        // loss = Σ c ⊙ logp  ⇒  dLoss/dlogp = c
        func loss() -> Double {
            let lp = try! model.tokenLogProbs(batch)
            return zip(lp.logProbs.joined(), weights.joined()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = loss()
        model.zeroGrad()
        try model.backward(batch, dLogProbs: weights)
        let analytic = Array(model.gradients)
        for t in model.layout.tensors {
            let range = t.offset..<(t.offset + t.count)
            assertGradientAnyStep(t.name, analytic[range], model.parameters, indices: range, loss, file: file, line: line)
        }
    }

    func testLlamaGQAUntiedGradients() throws { try Self.checkLogProbGradients(Self.llama) }
    func testQwen2BiasTiedGradients() throws { try Self.checkLogProbGradients(Self.qwen2) }
    func testQwen3QKNormGradients() throws { try Self.checkLogProbGradients(Self.qwen3) }

    /// Sequences longer than one 64-row attention block, packed after a short one.
    func testGradientsAcrossAttentionBlocks() throws {
        var config = Self.llama
        config.maxSeqLen = 80
        var rng = RandomGenerator(seed: 1)
        let long = (0..<70).map { _ in Int(rng.next() % 11) }
        let batch = TokenBatch(sequences: [[3, 1, 4], long], completionStart: [1, 60])
        try Self.checkLogProbGradients(config, batch: batch)
    }

    /// Groups sharing a prompt packed once (`SharedPromptTests`), GQA with and without q/k-norm.
    func testSharedPromptLayoutGradients() throws {
        try Self.checkLogProbGradients(Self.llama, batch: SharedPromptTests.batches().shared)
        try Self.checkLogProbGradients(Self.qwen3, batch: SharedPromptTests.batches().shared)
    }

    /// Log-probs at the rollout temperature (GRPO's loss): `softmax(logits / T)`, untied and tied head.
    func testTemperatureGradients() throws {
        var batch = Self.batch
        batch.temperature = 0.7
        try Self.checkLogProbGradients(Self.llama, batch: batch)
        try Self.checkLogProbGradients(Self.qwen2, batch: batch)
    }

    /// Temperature T is the same distribution as an lm_head scaled by 1/T at temperature 1.
    func testTemperatureEqualsScaledHead() throws {
        let model = Self.randomModel(Self.llama, seed: 3)
        var hot = Self.batch
        hot.temperature = 0.5
        let atT = try model.tokenLogProbs(hot)
        let head = model.parameter("lm_head.weight")!
        for i in head.indices { head[i] *= 2 }
        let scaled = try model.tokenLogProbs(Self.batch)
        for (a, b) in zip(atT.logProbs.joined(), scaled.logProbs.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(atT.entropies.joined(), scaled.entropies.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertNotEqual(atT.logProbs, try model.tokenLogProbs(hot).logProbs, "temperature must change the log-probs")
        hot.temperature = 0
        XCTAssertThrowsError(try model.tokenLogProbs(hot))
    }

    func testCrossEntropyGradientMatchesLoss() throws {
        let model = Self.randomModel(Self.qwen3, seed: 3)
        model.zeroGrad()
        let loss = try model.crossEntropyLossAndBackward(Self.batch)
        XCTAssertEqual(loss, try model.crossEntropyLoss(Self.batch), accuracy: 1e-6)
        let analytic = Array(model.gradients)
        assertGradientAnyStep("all parameters", analytic, model.parameters, indices: model.parameters.indices) {
            Double(try! model.crossEntropyLoss(Self.batch))
        }
    }

    func testGradientsAccumulateUntilZeroed() throws {
        let model = Self.randomModel(Self.llama, seed: 2)
        model.zeroGrad()
        _ = try model.crossEntropyLossAndBackward(Self.batch)
        let once = Array(model.gradients)
        _ = try model.crossEntropyLossAndBackward(Self.batch)
        for (a, b) in zip(once, model.gradients) { XCTAssertEqual(2 * a, b, accuracy: 1e-5 + 1e-4 * abs(b)) }
        model.zeroGrad()
        XCTAssertTrue(model.gradients.allSatisfy { $0 == 0 })
    }
}
