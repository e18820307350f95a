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
            guard let first = r.completion.unicodeScalars.first else { return 0 }
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
        trainer.onStep = { rewards.append($0["reward"]?.number ?? 0) }
        try trainer.run()
        let first = rewards.prefix(5).reduce(0, +) / 5, last = rewards.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(last, first + 0.3, "reward \(first) → \(last): \(rewards)")
    }
}
