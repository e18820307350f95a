import XCTest
@testable import TransformerModel

/// The shared-prompt layout (each group's prompt packed once, its completions attending to it)
/// gives the same log-probs, entropies and gradients as packing every sequence whole.
final class SharedPromptTests: XCTestCase {
    /// Groups of varied sizes, prompt and completion lengths, including empty and one-token
    /// completions, a one-token prompt, and a prompt that comes back after another group
    /// (not adjacent, so packed twice).
    static let prompts = [[1, 4, 2], [1, 4, 2], [1, 4, 2], [1, 4, 2], [7], [7], [2, 8, 1, 6, 10], [1, 4, 2], [1, 4, 2]]
    static let completions = [[5, 6, 7, 8], [], [9], [3, 3], [2, 5], [0], [4, 4, 4, 1, 2, 3, 7], [1, 2], [6, 0, 10]]

    static func batches(_ prompts: [[Int]] = prompts, _ completions: [[Int]] = completions) -> (shared: TokenBatch, plain: TokenBatch) {
        (TokenBatch(prompts: prompts, completions: completions),
         TokenBatch(prompts: prompts, completions: completions, sharePrompts: false))
    }

    func testLayoutPacksEachGroupPromptOnce() throws {
        let (shared, plain) = Self.batches()
        let p = try PackedBatch(shared, config: ModelGradientTests.llama)
        // Prompts 3 + 1 + 5 + 3 rows, completions |c| − 1 rows each (none for |c| ≤ 1).
        XCTAssertEqual(p.rows, 12 + (3 + 0 + 0 + 1) + (1 + 0) + 6 + (1 + 2))
        XCTAssertEqual(p.segments.filter { $0.prefixLength == 0 }.map(\.length), [3, 1, 5, 3])
        XCTAssertEqual(p.scoredPerSequence, Self.completions.map(\.count))
        // Completion rows continue the prompt's positions.
        XCTAssertEqual(Array(p.positions[3..<6]), [3, 4, 5])
        XCTAssertEqual(try PackedBatch(plain, config: ModelGradientTests.llama).rows, shared.sequences.joined().count)
    }

    func checkSameAsPlain(_ config: ModelConfig, _ batches: (shared: TokenBatch, plain: TokenBatch),
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let model = ModelGradientTests.randomModel(config, seed: 7)
        let (shared, plain) = batches
        var rng = RandomGenerator(seed: 9)
        let weights = shared.lossMask.indices.map { i in (0..<shared.scoredCount(i)).map { _ in rng.nextGaussian() } }

        model.zeroGrad()
        let a = try model.tokenLogProbs(plain)
        try model.backward(plain, dLogProbs: weights)
        let gPlain = Array(model.gradients)

        model.zeroGrad()
        let b = try model.tokenLogProbs(shared)
        try model.backward(shared, dLogProbs: weights)
        let gShared = Array(model.gradients)

        for (x, y) in [(a.logProbs, b.logProbs), (a.entropies, b.entropies)] {
            XCTAssertEqual(x.map(\.count), y.map(\.count), file: file, line: line)
            for (u, v) in zip(x.joined(), y.joined()) {
                XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(u)), file: file, line: line)
            }
        }
        for t in model.layout.tensors {
            let r = t.offset..<(t.offset + t.count)
            let err = relativeError(gShared[r], gPlain[r].map(Double.init))
            XCTAssertLessThan(err, 1e-5, "\(t.name): relative error \(err)", file: file, line: line)
            XCTAssertGreaterThan(gPlain[r].map(abs).max() ?? 0, 0, "\(t.name): zero gradient", file: file, line: line)
        }
    }

    func testLlamaGQASameAsPlain() throws { try checkSameAsPlain(ModelGradientTests.llama, Self.batches()) }
    func testQwen2BiasSameAsPlain() throws { try checkSameAsPlain(ModelGradientTests.qwen2, Self.batches()) }
    func testQwen3QKNormGQASameAsPlain() throws { try checkSameAsPlain(ModelGradientTests.qwen3, Self.batches()) }

    /// A long prompt and completions spanning several 64-row attention blocks.
    func testSameAsPlainAcrossAttentionBlocks() throws {
        var config = ModelGradientTests.qwen3
        config.maxSeqLen = 160
        var rng = RandomGenerator(seed: 4)
        let prompt = (0..<70).map { _ in Int(rng.next() % 11) }
        let comps = [80, 3, 66, 1].map { n in (0..<n).map { _ in Int(rng.next() % 11) } }
        try checkSameAsPlain(config, Self.batches(Array(repeating: prompt, count: 4), comps))
    }

    /// A forward-only pass gives the same numbers and leaves the kept activations for `backward`.
    func testForwardOnlyPassKeepsTheTrainingActivations() throws {
        let model = ModelGradientTests.randomModel(ModelGradientTests.qwen3, seed: 2)
        let (shared, plain) = Self.batches()
        let weights = shared.lossMask.indices.map { [Float](repeating: 0.5, count: shared.scoredCount($0)) }
        model.zeroGrad()
        let kept = try model.tokenLogProbs(shared)
        try model.backward(shared, dLogProbs: weights)
        let expected = Array(model.gradients)

        model.zeroGrad()
        XCTAssertEqual(try model.tokenLogProbs(shared), kept)
        let other = try model.tokenLogProbs(TokenBatch(sequences: [[3, 1, 4, 1, 5, 9, 2, 6]]), keepingActivations: false)
        XCTAssertEqual(try model.tokenLogProbs(shared, keepingActivations: false), kept)
        XCTAssertEqual(try model.tokenLogProbs(plain, keepingActivations: false).logProbs.count, kept.logProbs.count)
        try model.backward(shared, dLogProbs: weights)
        XCTAssertEqual(Array(model.gradients), expected)
        XCTAssertEqual(other.logProbs[0].count, 7)
    }
}
