import XCTest
import TransformerModel
@testable import GRPOTrainer

/// GRPO through the real transformer: a tiny model learns to start its answers with an ASCII
/// digit, from an in-process reward.
final class TransformerLearningTests: XCTestCase {
    func testGRPORaisesRewardWithTheTransformer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tlearn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tiny = ModelConfig(vocabSize: 260, dim: 32, nLayers: 1, nHeads: 2, ffnDim: 64, maxSeqLen: 64, tiedEmbeddings: false)
        let records = (0..<8).map { i in
            PromptRecord(id: "p\(i)", messages: [ChatMessage(role: "user", content: "Q\(i)")], referenceAnswer: nil)
        }
        let digit = ClosureScorer(name: "digit") { r in
            guard let first = (r.completionText ?? "").unicodeScalars.first else { return 0 }
            return ("0"..."9").contains(first) ? 1 : 0
        }
        let config = try TrainConfig.parse([
            "data": ["train": "t.jsonl"], "model": ["preset": "ref-1m"], "rewards": "in-process",
            "output_dir": .string(dir.path),
            "hyperparameters": ["batch_size": 8, "num_generations": 8, "max_completion_length": 3, "learning_rate": 0.01,
                                "lr_scheduler": "constant", "max_steps": 40, "save_interval": 0, "beta": 0.04, "seed": 1],
        ])
        let policy = try TransformerPolicy.scratch(tiny, seed: 1, hyperparameters: config.hyperparameters)
        let trainer = try Trainer(config: config, policy: policy, scorer: digit, train: records, validation: [])
        trainer.say = { _ in }
        var rewards: [Double] = []
        trainer.onStep = { rewards.append($0["reward"]?.doubleValue ?? 0) }
        try trainer.run()
        let first = rewards.prefix(5).reduce(0, +) / 5, last = rewards.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(last, first + 0.3, "reward \(first) → \(last): \(rewards)")
        // The run says which thread count reproduces it.
        XCTAssertEqual(try RunDirectory(dir.path).readSummary().modelThreads, policy.model.threads)
    }

    /// The loss, its ratios and the KL see the distribution the completions were sampled from:
    /// log-probs at the rollout temperature, for the policy and its frozen reference alike.
    func testLogProbsAtTheRolloutTemperature() throws {
        let tiny = ModelConfig(vocabSize: 260, dim: 32, nLayers: 1, nHeads: 2, ffnDim: 64, maxSeqLen: 64, tiedEmbeddings: false)
        var h = Hyperparameters()
        h.temperature = 0.7
        let policy = try TransformerPolicy.scratch(tiny, seed: 2, hyperparameters: h)
        let seqs = [PolicySequence(prompt: [72, 105], completion: [33, 10, 4]), PolicySequence(prompt: [72, 105], completion: [9])]
        var expected = TokenBatch(prompts: seqs.map(\.prompt), completions: seqs.map(\.completion))
        expected.temperature = 0.7
        let want = try policy.model.tokenLogProbs(expected).logProbs
        XCTAssertEqual(try policy.logProbs(seqs), want)
        XCTAssertEqual(try policy.frozenCopy().logProbs(seqs), want)
        XCTAssertNotEqual(try policy.model.tokenLogProbs(TokenBatch(prompts: seqs.map(\.prompt), completions: seqs.map(\.completion))).logProbs, want)
    }

    /// When a batch is reused (μ > 1) the sampler's log-probs stand in for π_old's forward pass:
    /// they are the policy's own log-probs of the sampled tokens, and only reported when they are
    /// exactly that (temperature 1, the whole prompt seen).
    func testSampledLogProbsArePiOld() throws {
        let tiny = ModelConfig(vocabSize: 260, dim: 32, nLayers: 2, nHeads: 2, ffnDim: 64, maxSeqLen: 64, tiedEmbeddings: false)
        let policy = try TransformerPolicy.scratch(tiny, seed: 3, hyperparameters: Hyperparameters())
        let prompts = [[72, 105], [65, 66, 67, 68, 69]]
        let rows = try policy.sample(prompts: prompts, count: 4, settings: SamplingSettings(temperature: 1, maxNewTokens: 6), seed: 9)
        let seqs = zip(prompts, rows).flatMap { p, row in row.map { PolicySequence(prompt: p, completion: $0.tokens) } }
        let forward = try policy.logProbs(seqs), sampled = rows.joined().map(\.logProbs)
        for (f, s) in zip(forward, sampled) {
            let s = try XCTUnwrap(s)
            XCTAssertEqual(f.count, s.count)
            for (x, y) in zip(f, s) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        }
        let cooled = try policy.sample(prompts: prompts, count: 2, settings: SamplingSettings(temperature: 0.7, maxNewTokens: 6), seed: 9)
        XCTAssertTrue(cooled.joined().allSatisfy { $0.logProbs == nil }, "temperature 0.7: the sampler's log-probs are not π_old's")
        let long = [Int](repeating: 65, count: 62)
        let cut = try policy.sample(prompts: [long], count: 2, settings: SamplingSettings(temperature: 1, maxNewTokens: 6), seed: 9)
        XCTAssertTrue(cut[0].allSatisfy { $0.logProbs == nil }, "a prompt cut to fit was not seen whole")
    }

    /// The policy packs its decode matrices once and reuses them until the parameters change:
    /// sampling twice draws the same as a policy that never sampled, and sampling after
    /// `applyGradients` sees the updated parameters.
    func testSamplingAfterAnUpdateSeesTheNewParameters() throws {
        let tiny = ModelConfig(vocabSize: 260, dim: 32, nLayers: 2, nHeads: 2, ffnDim: 64, maxSeqLen: 64, tiedEmbeddings: false)
        let policy = try TransformerPolicy.scratch(tiny, seed: 4, hyperparameters: Hyperparameters())
        let prompts = [[72, 105], [65, 66, 67]]
        let settings = SamplingSettings(temperature: 1, maxNewTokens: 8)
        func draw(_ p: TransformerPolicy) throws -> [[SampledCompletion]] {
            try p.sample(prompts: prompts, count: 4, settings: settings, seed: 11)
        }
        func fresh() throws -> [[SampledCompletion]] {
            let copy = try TransformerPolicy(model: Transformer(config: tiny), tokenizer: ByteTokenizer())
            copy.model.copyParameters(from: policy.model)
            return try draw(copy)
        }
        let before = try draw(policy)
        XCTAssertEqual(try draw(policy), before, "the kept copy draws what a fresh one does")
        XCTAssertEqual(try fresh(), before)
        // One large step that raises the log-probs of its own samples.
        let seqs = before.enumerated().flatMap { p, row in row.map { PolicySequence(prompt: prompts[p], completion: $0.tokens) } }
        _ = try policy.accumulateGradients(seqs) { logp in logp.map { $0.map { _ in -1 } } }
        _ = try policy.applyGradients(learningRate: 0.05)
        let after = try draw(policy)
        XCTAssertEqual(after, try fresh(), "sampling after the update uses the updated parameters")
        XCTAssertNotEqual(after.map { $0.map(\.logProbs) }, before.map { $0.map(\.logProbs) }, "the update changed the model")
    }

    /// Stop after step 3, resume from the checkpoint: the same curve as an uninterrupted run
    /// (parameters, AdamW state, data order and sampling RNG all restored).
    func testResumeIsExactWithTheTransformer() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tresume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let tiny = ModelConfig(vocabSize: 260, dim: 32, nLayers: 2, nHeads: 2, ffnDim: 64, maxSeqLen: 64, tiedEmbeddings: false)
        let records = (0..<6).map { i in
            PromptRecord(id: "p\(i)", messages: [ChatMessage(role: "user", content: "Q\(i)")], referenceAnswer: nil)
        }
        let scorer = ClosureScorer(name: "digits") { r in Double((r.completionText ?? "").filter(\.isNumber).count) / 3 }
        func trainer(_ name: String) throws -> Trainer {
            let config = try TrainConfig.parse([
                "data": ["train": "t.jsonl"], "model": ["preset": "ref-1m"], "rewards": "in-process",
                "output_dir": .string(root.appendingPathComponent(name).path),
                "hyperparameters": ["batch_size": 4, "num_generations": 4, "max_completion_length": 3, "learning_rate": 0.01,
                                    "max_steps": 6, "save_interval": 3, "beta": 0.04, "num_iterations": 2, "seed": 5],
            ])
            let policy = try TransformerPolicy.scratch(tiny, seed: 5, hyperparameters: config.hyperparameters)
            let t = try Trainer(config: config, policy: policy, scorer: scorer, train: records, validation: [])
            t.say = { _ in }
            return t
        }
        try trainer("full").run()
        let cut = try trainer("cut")
        cut.onStep = { if $0["step"]?.doubleValue == 3 { cut.stop.set() } }
        XCTAssertEqual(try cut.run().status, .stopped)
        XCTAssertEqual(try trainer("cut").run(resume: true).status, .completed)
        let a = RunDirectory(root.appendingPathComponent("full").path).readLines("metrics.jsonl")
        let b = RunDirectory(root.appendingPathComponent("cut").path).readLines("metrics.jsonl")
        XCTAssertEqual(b.count, 6)
        for (x, y) in zip(a, b) {
            for k in ["reward", "grad_norm", "kl", "entropy", "completions/mean_length"] {
                XCTAssertEqual(x[k], y[k], "step \(x["step"]!) \(k)")
            }
        }
    }
}
