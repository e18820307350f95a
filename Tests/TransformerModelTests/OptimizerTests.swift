import XCTest
@testable import TransformerModel

final class OptimizerTests: XCTestCase {
    func testAdamWFirstStepMatchesTheFormula() {
        let model = Transformer(config: ModelGradientTests.llama, seed: 1)
        let before = Array(model.parameters)
        for i in model.gradients.indices { model.gradients[i] = Float(i % 7) - 3 }
        let opt = AdamW(layout: model.layout, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1)
        opt.step(parameters: model.parameters, gradients: model.gradients, learningRate: 0.01)
        let norm = model.layout["model.norm.weight"]!.offset, emb = 0
        for i in [emb, emb + 5, norm, norm + 3] {
            let g = Double(model.gradients[i])
            // Step 1: m̂ = g, v̂ = g², so the update is lr · g/(|g| + eps), plus decay on matrices.
            let decay = i == norm || i == norm + 3 ? 0.0 : 0.1
            let expected = Double(before[i]) * (1 - 0.01 * decay) - 0.01 * g / (abs(g) + 1e-8)
            XCTAssertEqual(Double(model.parameters[i]), expected, accuracy: 1e-6)
        }
    }

    func testAdamWStateRestoresExactly() throws {
        let a = Transformer(config: ModelGradientTests.llama, seed: 1), b = Transformer(config: ModelGradientTests.llama, seed: 1)
        let oa = AdamW(layout: a.layout, weightDecay: 0.1), ob = AdamW(layout: b.layout, weightDecay: 0.1)
        let batch = ModelGradientTests.batch
        for _ in 0..<3 {
            a.zeroGrad(); _ = try a.crossEntropyLossAndBackward(batch)
            oa.step(parameters: a.parameters, gradients: a.gradients, learningRate: 1e-2)
        }
        let saved = try JSONEncoder().encode(oa.state)
        try ob.restore(try JSONDecoder().decode(AdamW.State.self, from: saved))
        b.copyParameters(from: a)
        for m in [a, b] { m.zeroGrad(); _ = try m.crossEntropyLossAndBackward(batch) }
        oa.step(parameters: a.parameters, gradients: a.gradients, learningRate: 1e-2)
        ob.step(parameters: b.parameters, gradients: b.gradients, learningRate: 1e-2)
        XCTAssertEqual(ob.stepCount, 4)
        XCTAssertEqual(Array(a.parameters), Array(b.parameters))
        XCTAssertThrowsError(try ob.restore(AdamW.State(stepCount: 1, m: [1], v: [1])))
    }

    func testClipGradNorm() {
        var g: [Float] = [3, 4, 0]
        let norm = g.withUnsafeMutableBufferPointer { clipGradNorm($0, maxNorm: 1) }
        XCTAssertEqual(norm, 5, accuracy: 1e-6)
        XCTAssertEqual(g[0], 0.6, accuracy: 1e-5); XCTAssertEqual(g[1], 0.8, accuracy: 1e-5)
        let small = g.withUnsafeMutableBufferPointer { clipGradNorm($0, maxNorm: 10) }
        XCTAssertEqual(small, 1, accuracy: 1e-5)
        XCTAssertEqual(g[1], 0.8, accuracy: 1e-5, "below the limit: unchanged")
    }

    func testLearningRateSchedules() {
        let cos = LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, decay: .cosine, minFraction: 0.1)
        XCTAssertEqual(cos.learningRate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(at: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(at: 60), 0.55, accuracy: 1e-5)
        XCTAssertEqual(cos.learningRate(at: 110), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(at: 500), 0.1, accuracy: 1e-6)
        let lin = LRSchedule(peak: 2, totalSteps: 100, decay: .linear)
        XCTAssertEqual(lin.learningRate(at: 50), 1, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule(peak: 3, warmupSteps: 2, totalSteps: 9, decay: .constant).learningRate(at: 7), 3)
    }

    func testRandomGeneratorStateRoundTrips() throws {
        var rng = RandomGenerator(seed: 99)
        _ = rng.next()
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: JSONEncoder().encode(rng))
        XCTAssertEqual((0..<5).map { _ in rng.next() }, (0..<5).map { _ in restored.next() })
        let u = (0..<10_000).map { _ in rng.nextFloat() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / 10_000, 0.5, accuracy: 0.02)
        XCTAssertNotEqual(RandomGenerator(seed: 1), RandomGenerator(seed: 2))
    }

    /// The pieces train: AdamW on the SFT loss memorises a small batch.
    func testTrainingReducesTheLoss() throws {
        let model = Transformer(config: ModelGradientTests.qwen3, seed: 5)
        let opt = AdamW(layout: model.layout, weightDecay: 0.01)
        let schedule = LRSchedule(peak: 3e-2, warmupSteps: 5, totalSteps: 60)
        let batch = ModelGradientTests.batch
        let initial = try model.crossEntropyLoss(batch)
        for step in 0..<60 {
            model.zeroGrad()
            _ = try model.crossEntropyLossAndBackward(batch)
            clipGradNorm(model.gradients, maxNorm: 1)
            opt.step(parameters: model.parameters, gradients: model.gradients, learningRate: schedule.learningRate(at: step))
        }
        let final = try model.crossEntropyLoss(batch)
        XCTAssertLessThan(final, initial * 0.3, "loss \(initial) → \(final)")
    }
}
