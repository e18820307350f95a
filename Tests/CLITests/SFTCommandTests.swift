import Foundation
import XCTest

/// `rft sft` as a user runs it: a small chat JSONL in, a checkpoint out.
final class SFTCommandTests: XCTestCase {
    func testSFTTrainsSavesAndReportsBadLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-sft-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines: [String] = []
        for (i, name) in ["Ann", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo", "Kim", "Lou", "Max", "Ned",
                          "Oli", "Pam", "Quin", "Roy", "Sue", "Tom", "Uma", "Val", "Wes", "Xia"].enumerated() {
            lines.append(#"{"messages": [{"role": "user", "content": "Greet \#(name)."}, {"role": "assistant", "content": "Hi \#(name)!"}]}"#)
            if i == 3 { lines.append("{not json") }
        }
        let data = dir.appendingPathComponent("chats.jsonl")
        try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("tiny.json")
        try #"{"vocab_size": 260, "dim": 32, "n_layers": 2, "n_heads": 4, "ffn_dim": 64, "max_seq_len": 48}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("ckpt")

        let r = try RFTBinary.run(["sft", "--data", data.path, "--out", out.path, "--model-config", config.path,
                                   "--epochs", "10", "--lr", "1e-2", "--val-fraction", "0.2", "--samples", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped \(data.path):5: not a JSON object"), r.stderr)
        XCTAssertTrue(r.stderr.contains("held-out loss before training"), r.stderr)
        // "done: N steps in S s; held-out loss A → B; checkpoint DIR"
        let done = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("done:") }, r.stdout)
        let losses = done.components(separatedBy: "held-out loss ")[1].components(separatedBy: ";")[0]
            .components(separatedBy: " → ").compactMap { Float($0) }
        XCTAssertEqual(losses.count, 2, String(done))
        XCTAssertLessThan(losses[1], losses[0] * 0.6, String(done))
        XCTAssertTrue(r.stdout.contains("sample ("), r.stdout)
        for file in ["config.json", "model.safetensors", "rft_tokenizer.json", "optimizer.safetensors", "optimizer.json",
                     "sft_state.json", "sft_metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }

        // The checkpoint loads back and samples.
        let gen = try RFTBinary.run(["generate", "--model", out.path, "--prompt", "Greet Ann.", "--json"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(gen.stdout.utf8)) as? [String: Any], gen.stdout)
        XCTAssertTrue((line["completion"] as? String)?.hasPrefix("Hi ") == true, gen.stdout)
        XCTAssertEqual(line["finish_reason"] as? String, "eos", gen.stdout)

        // ... and continues training with its optimizer state.
        let again = try RFTBinary.run(["sft", "--data", data.path, "--out", dir.appendingPathComponent("ckpt2").path,
                                       "--init", out.path, "--resume", "--epochs", "1", "--samples", "0"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("loaded \(out.path) (rft checkpoint"), again.stderr)
    }

    func testBadArgumentsAreRefused() throws {
        let r = try RFTBinary.run(["sft", "--data", "/nonexistent.jsonl", "--out", "/tmp/unused"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("/nonexistent.jsonl: cannot read: no such file"), r.stderr)
        let both = try RFTBinary.run(["sft", "--data", "x", "--out", "y", "--init", "a", "--model-config", "demo"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("either --init or --model-config"), both.stderr)
    }
}
