import XCTest
import Foundation

/// `rft data`, `rft train`, `rft runs`, `rft eval` as a user runs them.
final class TrainerCLITests: XCTestCase {
    var dir: URL!
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func prompts(_ n: Int) -> String {
        (0..<n).map { #"{"id": "p\#($0)", "messages": [{"role": "user", "content": "What is \#($0 % 5)+2?"}], "reference_answer": "\#($0 % 5 + 2)"}"# }
            .joined(separator: "\n")
    }

    func testDataValidateReportsLinesAndExitStatus() throws {
        let good = write("good.jsonl", prompts(3))
        var r = try RFTBinary.run(["data", "validate", good])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("3 prompts, 0 errors"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Bedrock accepts 100 to 20,000"), r.stdout)
        let bad = write("bad.jsonl", prompts(1) + "\n{\"messages\": [{\"role\": \"user\"}]}\n")
        r = try RFTBinary.run(["data", "validate", bad])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("bad.jsonl:2: error: messages[0].content"), r.stdout)
    }

    func testTrainStopResumeAndRuns() throws {
        _ = write("train.jsonl", prompts(8))
        _ = write("val.jsonl", prompts(4))
        let config = write("grpo.yaml", """
        data:
          train: train.jsonl
          validation: val.jsonl
        model:
          config: {"vocab_size": 260, "dim": 32, "n_layers": 1, "n_heads": 2, "ffn_dim": 64, "max_seq_len": 64}
        rewards:
          spec: \(repo.appendingPathComponent("templates/math").path)
        output_dir: runs/tiny
        hyperparameters:
          batch_size: 2
          num_generations: 4
          max_completion_length: 4
          learning_rate: 1e-3
          max_steps: 3
          eval_interval: 2
          save_interval: 1
        """)
        var r = try RFTBinary.run(["train", "--config", config, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let run = dir.appendingPathComponent("runs/tiny")
        XCTAssertTrue(r.stdout.contains("run: \(run.path)"), r.stdout)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["status"] as? String, "Completed")
        XCTAssertEqual(summary["steps"] as? Int, 3)
        XCTAssertNotNil(summary["baseline_val_reward"] as? Double)
        XCTAssertEqual(summary["best_checkpoint"] as? String, "checkpoints/best")
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 3)
        XCTAssertTrue(metrics.contains("\"rewards/math/mean\""), metrics)

        // Resume a completed run with more steps.
        r = try RFTBinary.run(["train", "--resume", run.path, "--quiet", "max_steps=4"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("resuming from checkpoints/"), r.stdout)
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)

        r = try RFTBinary.run(["runs", "list", "--root", dir.appendingPathComponent("runs").path])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("tiny") && r.stdout.contains("Completed") && r.stdout.contains("4/4"), r.stdout)
        r = try RFTBinary.run(["runs", "show", run.path])
        XCTAssertTrue(r.stdout.contains("status:           Completed") && r.stdout.contains("checkpoints/best"), r.stdout)

        // A config error names the field and range.
        r = try RFTBinary.run(["train", "--config", config, "learning_rate=3"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("hyperparameters.learning_rate") && r.stderr.contains("0 < x ≤ 0.1"), r.stderr)

        // rft eval on the trained checkpoint.
        r = try RFTBinary.run(["eval", "--model", run.appendingPathComponent("checkpoints/final").path,
                               "--data", dir.appendingPathComponent("val.jsonl").path,
                               "--rewards", repo.appendingPathComponent("templates/math").path, "--max-tokens", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("mean reward") && r.stdout.contains("recommendation"), r.stdout)
    }
}
