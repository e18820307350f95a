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
        _ = write("held.jsonl", prompts(3))
        let config = write("grpo.yaml", """
        data:
          train: train.jsonl
          validation: val.jsonl
          test: held.jsonl
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
        // The held-out split: scored before and after, reported apart from validation.
        XCTAssertNotNil(summary["test_baseline_reward"] as? Double, "\(summary)")
        XCTAssertNotNil(summary["test_final_reward"] as? Double, "\(summary)")
        XCTAssertTrue(r.stdout.contains("test (held out, 3 prompts): baseline "), r.stdout)
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
        XCTAssertTrue(r.stdout.contains("test (held out):  baseline ") && r.stdout.contains("test_final.json"), r.stdout)

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

    /// A grader that raises on every sample, as a judge does when its endpoint is down.
    func downGrader() throws -> String {
        let g = dir.appendingPathComponent("down")
        try FileManager.default.createDirectory(at: g, withIntermediateDirectories: true)
        _ = write("down/grader.json", #"{"name": "down", "handler": "judge.lambda_handler", "retries": 0}"#)
        _ = write("down/judge.py", "def lambda_handler(event, context):\n    raise ConnectionRefusedError('[Errno 111] Connection refused')\n")
        for path in [g.path, g.appendingPathComponent("grader.json").path, g.appendingPathComponent("judge.py").path] {
            try FileManager.default.setAttributes([.posixPermissions: path == g.path ? 0o755 : 0o644], ofItemAtPath: path)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        return g.path
    }

    func testTrainWithAFailingGraderFailsLoudly() throws {
        _ = write("train.jsonl", prompts(4))
        let grader = try downGrader()
        let config = write("down.yaml", """
        data:
          train: train.jsonl
        model:
          preset: ref-1m
        rewards:
          spec: \(grader)
        output_dir: runs/down
        hyperparameters:
          batch_size: 2
          num_generations: 2
          max_completion_length: 2
          max_steps: 2
        """)
        var r = try RFTBinary.run(["train", "--config", config])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertFalse(r.stdout.contains("Completed"), r.stdout)
        XCTAssertTrue(r.stderr.contains("error: grading failed on 100.0% of samples (8 of 8) during steps 1-2, above max_grader_error_rate 0.5"), r.stderr)
        // The example may name the sample the split isolated ("sample \"p3#1.0.0\" (isolated from a batch of 4): ...").
        XCTAssertTrue(r.stderr.contains("handler_error ×8: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("ConnectionRefusedError: [Errno 111] Connection refused (at judge.py:2)"), r.stderr)
        // The progress lines show the errors as they happen.
        XCTAssertTrue(r.stdout.contains("errors 4/4 (handler_error)"), r.stdout)
        let run = dir.appendingPathComponent("runs/down")
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<div class=\"banner errors\"><strong>Grading failed on 8 samples: handler_error ×8</strong>"), "report banner")
        r = try RFTBinary.run(["runs", "show", run.path])
        XCTAssertTrue(r.stdout.contains("status:           Failed"), r.stdout)
        XCTAssertTrue(r.stdout.contains("grader errors:    8 samples failed grading (handler_error ×8)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("ConnectionRefusedError: [Errno 111] Connection refused (at judge.py:2)"), r.stdout)
    }

    func testEvalCountsErrorsAdvisesFixingTheGraderAndExitsNonZero() throws {
        let data = write("val.jsonl", prompts(3))
        let ckpt = dir.appendingPathComponent("base").path
        let chat = (0..<4).map { _ in #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "4"}]}"# }.joined(separator: "\n")
        var r = try RFTBinary.run(["sft", "--data", write("chats.jsonl", chat),
                                   "--out", ckpt, "--model-config", "ref-1m", "--epochs", "1", "--val-data", write("v.jsonl", chat)])
        XCTAssertEqual(r.status, 0, r.stderr)
        // No --max-tokens: the default fits ref-1m's 256-token context.
        r = try RFTBinary.run(["eval", "--model", ckpt, "--data", data, "--rewards", try downGrader(), "--out", dir.appendingPathComponent("e.json").path])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("grading errors: 3 of 3 samples (100.0%)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("recommendation: your grader failed on 100.0% of samples: fix it first"), r.stdout)
        XCTAssertFalse(r.stdout.contains("supervised fine-tuning"), r.stdout)
        XCTAssertTrue(r.stderr.contains("above --max-grader-error-rate 0.5"), r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("e.json"))) as! [String: Any]
        XCTAssertEqual(report["errors"] as? [String: Int], ["handler_error": 3])
        r = try RFTBinary.run(["eval", "--model", ckpt, "--data", data, "--rewards", try downGrader(), "--max-grader-error-rate", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // A length that does not fit names eval's own option.
        r = try RFTBinary.run(["eval", "--model", ckpt, "--data", data, "--rewards", try downGrader(), "--max-tokens", "300"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: --max-tokens 300 is out of range; allowed: at most 255"), r.stderr)
        XCTAssertFalse(r.stderr.contains("max_completion_length"), r.stderr)
    }

    func testDataValidateMessagesAndNoDoubledPrefix() throws {
        let file = write("d.jsonl", """
            {"messages": [{"role": "user", "content": 5}], "reference_answer": "1"}
            {"messages": [{"role": "user", "content": "a"}], "reference_answer": "1"
            {"messages": [{"role": "user", "content": "b"}]}
            """)
        var r = try RFTBinary.run(["data", "validate", file])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("d.jsonl:1: error: messages[0].content: must be a string (or a list of {\"type\": \"text\", \"text\"}), got number"), r.stdout)
        XCTAssertTrue(r.stdout.contains("d.jsonl:2: error: not valid JSON at column 73: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("d.jsonl:3: warning: reference_answer: missing"), r.stdout)
        XCTAssertTrue(r.stdout.contains(": 1 prompt, 2 errors, 2 warnings: INVALID"), r.stdout)
        // train and eval print the data error with one prefix.
        _ = write("t.yaml", "data:\n  train: d.jsonl\nmodel:\n  preset: ref-1m\nrewards: r.json\n")
        r = try RFTBinary.run(["train", "--config", dir.appendingPathComponent("t.yaml").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(file):1: error: messages[0].content"), r.stderr)
        XCTAssertFalse(r.stderr.contains("error: \(file)"), r.stderr)
    }
}
