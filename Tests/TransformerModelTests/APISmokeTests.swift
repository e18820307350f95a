import XCTest
@testable import TransformerModel

final class APISmokeTests: XCTestCase {
    func testLogProbsSampleAndStep() throws {
        let config = ModelConfig(vocabSize: 13, dim: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 24, maxSeqLen: 32)
        let model = Transformer(config: config, seed: 1)
        let batch = TokenBatch(prompts: [[1, 2, 3], [4]], completions: [[5, 6], [7, 8, 9]])
        let lp = try model.tokenLogProbs(batch)
        XCTAssertEqual(lp.logProbs.map(\.count), [2, 3])
        for v in lp.logProbs.joined() { XCTAssertLessThan(v, 0) }
        model.zeroGrad()
        try model.backward(batch, dLogProbs: [[1, 1], [1, 1, 1]])
        var rng = RandomGenerator(seed: 3)
        let out = try model.sample(prompts: [[1, 2]], completionsPerPrompt: 3,
                                   options: SamplingOptions(maxNewTokens: 5), rng: &rng)
        XCTAssertEqual(out[0].count, 3)
        XCTAssertEqual(out[0][0].tokens.count, 5)
        let opt = AdamW(layout: model.layout)
        opt.step(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-3)
        XCTAssertEqual(opt.stepCount, 1)
    }
}
