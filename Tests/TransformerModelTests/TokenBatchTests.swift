import XCTest
@testable import TransformerModel

final class TokenBatchTests: XCTestCase {
    let model = ModelGradientTests.randomModel(ModelGradientTests.qwen3, seed: 21)

    /// Packed sequences do not see each other: a sequence scores the same alone and in a batch.
    func testSequencesInABatchAreIndependent() throws {
        let a = [1, 2, 3, 4, 5, 6], b = [9, 8, 7]
        let together = try model.tokenLogProbs(TokenBatch(sequences: [b, a, b]))
        let alone = try model.tokenLogProbs(TokenBatch(sequences: [a]))
        for (x, y) in zip(together.logProbs[1], alone.logProbs[0]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        assertClose(together.logProbs[0], together.logProbs[2])
    }

    func testPromptMaskScoresCompletionTokensOnly() throws {
        let batch = TokenBatch(prompts: [[1, 2, 3], [4]], completions: [[5, 6], [7, 8, 9]])
        XCTAssertEqual(batch.lossMask, [[false, false, false, true, true], [false, true, true, true]])
        let lp = try model.tokenLogProbs(batch)
        let full = try model.tokenLogProbs(TokenBatch(sequences: batch.sequences))
        assertClose(lp.logProbs[0], Array(full.logProbs[0].suffix(2)))
        assertClose(lp.logProbs[1], full.logProbs[1])
        for (h, p) in zip(lp.entropies.joined(), lp.logProbs.joined()) {
            XCTAssertGreaterThan(h, 0); XCTAssertLessThanOrEqual(h, log(Float(11)) + 1e-5); XCTAssertLessThan(p, 0)
        }
    }

    func testBadInputIsATypedErrorNamingTheSequence() throws {
        let cases: [(TokenBatch, ModelError)] = [
            (TokenBatch(sequences: [[1, 2], [3, 11]]), .tokenOutOfRange(sequence: 1, position: 1, token: 11, vocabSize: 11)),
            (TokenBatch(sequences: [[1, 2], []]), .emptySequence(sequence: 1)),
            (TokenBatch(sequences: [[1, 2]], lossMask: [[false]]), .maskLengthMismatch(sequence: 0, tokens: 2, mask: 1)),
            (TokenBatch(sequences: [[1, 2]], lossMask: [[true, true]]), .firstTokenScored(sequence: 0)),
            (TokenBatch(sequences: [Array(repeating: 1, count: 17)]), .sequenceTooLong(sequence: 0, length: 17, maxSeqLen: 16)),
        ]
        for (batch, expected) in cases {
            XCTAssertThrowsError(try model.tokenLogProbs(batch)) { XCTAssertEqual($0 as? ModelError, expected) }
        }
    }

    func testBackwardNeedsTheMatchingForward() throws {
        let m = Transformer(config: ModelGradientTests.llama, seed: 1)
        let a = TokenBatch(sequences: [[1, 2, 3]]), b = TokenBatch(sequences: [[1, 2, 4]])
        XCTAssertThrowsError(try m.backward(a, dLogProbs: [[1, 1]])) {
            XCTAssertEqual($0 as? ModelError, .backwardWithoutMatchingForward)
        }
        _ = try m.tokenLogProbs(a)
        XCTAssertThrowsError(try m.backward(b, dLogProbs: [[1, 1]]))
        XCTAssertThrowsError(try m.backward(a, dLogProbs: [[1]])) {
            XCTAssertEqual($0 as? ModelError, .gradientShapeMismatch(sequence: 0, expected: 2, got: 1))
        }
        XCTAssertNoThrow(try m.backward(a, dLogProbs: [[1, 1]]))
    }

    func testParametersByHuggingFaceName() throws {
        let m = Transformer(config: ModelGradientTests.qwen2, seed: 3)
        let q = try XCTUnwrap(m.parameter("model.layers.1.self_attn.q_proj.bias"))
        XCTAssertEqual(q.count, 8)
        XCTAssertTrue(q.allSatisfy { $0 == 0 }, "biases start at zero")
        XCTAssertTrue(m.parameter("model.norm.weight")!.allSatisfy { $0 == 1 })
        XCTAssertNil(m.parameter("lm_head.weight"), "tied head")
        XCTAssertThrowsError(try m.loadParameters([1, 2, 3]))
        let copy = Transformer(config: ModelGradientTests.qwen2)
        copy.copyParameters(from: m)
        XCTAssertEqual(Array(copy.parameters), Array(m.parameters))
    }

    func testConfigValidationNamesTheField() {
        XCTAssertNoThrow(try ModelConfig.ref1m.validate())
        XCTAssertNoThrow(try ModelConfig.demo.validate())
        var c = ModelConfig.demo
        c.nKVHeads = 4
        XCTAssertThrowsError(try c.validate()) {
            XCTAssertEqual($0 as? ModelError, .invalidConfig(field: "n_kv_heads", reason: "must divide n_heads (6), got 4"))
        }
        c = .demo
        c.ffnDim = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? ModelError)?.description, "model config: ffn_dim must be positive, got 0") }
    }
}
