import XCTest
import GraderRuntime
import TransformerModel
@testable import GRPOTrainer
import JSON

/// GRPO steps whose rewards come from templates/math running in the sandboxed grader runtime.
final class SandboxedRewardTests: XCTestCase {
    func testTrainingThroughTheSandboxedMathGrader() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scorer = try SandboxScorer(spec: RewardSpec.load(repo.appendingPathComponent("templates/math")))
        defer { scorer.shutdown() }
        XCTAssertEqual(scorer.graderNames, ["math"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sbx-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let records = (0..<4).map { i in
            PromptRecord(id: "q\(i)", messages: [ChatMessage(role: "user", content: "Q: \(i)+2=? A:")],
                         referenceAnswer: .string(String(i + 2)))
        }
        let config = try TrainConfig.parse(["data": ["train": "t.jsonl"], "model": ["preset": "ref-1m"], "rewards": "templates/math",
                                            "output_dir": .string(dir.path),
                                            "hyperparameters": ["batch_size": 4, "num_generations": 8, "max_completion_length": 2,
                                                                "learning_rate": 0.1, "max_steps": 3, "save_interval": 0]])
        let trainer = try Trainer(config: config, policy: TabularPolicy(), scorer: scorer, train: records, validation: records)
        trainer.say = { _ in }
        var lines: [JSONValue] = []
        trainer.onStep = { lines.append($0) }
        let summary = try trainer.run()
        XCTAssertEqual(summary.status, .completed)
        XCTAssertNotNil(summary.baselineValReward)
        for l in lines {
            XCTAssertNil(l["grader/errors/crash"]); XCTAssertNil(l["grader/errors/init_error"])
            XCTAssertNotNil(l["rewards/math/mean"]?.doubleValue)
            XCTAssertNotNil(l["grader/latency_ms_mean"]?.doubleValue)
        }
        // The sandboxed grader agrees with the exact-match rule on every logged sample.
        let samples = RunDirectory(dir.path).readLines("samples.jsonl")
        XCTAssertFalse(samples.isEmpty)
        for s in samples {
            let id = s["prompt_id"]!.stringValue!, completion = s["completion"]!.stringValue!
            let expected = records.first { $0.id == id }!.referenceAnswer!.stringValue!
            if s["error"] == .null, !completion.isEmpty {
                XCTAssertEqual(s["reward"]?.doubleValue, completion == expected ? 1 : 0, "\(id): \(completion)")
            }
        }
    }
}
