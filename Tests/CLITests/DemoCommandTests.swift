import Foundation
import XCTest

final class DemoCommandTests: XCTestCase {
    /// A bad schedule is refused before any data is drawn or any model trained.
    func testUnknownLearningRateScheduleIsRefusedUpFront() throws {
        try assertRefusedUpFront(["--lr-scheduler", "wobbly"], saying: "--lr-scheduler must be one of constant, linear, cosine, not 'wobbly'")
    }

    /// A model shape that is neither a preset nor a readable config file is refused the same way.
    func testUnknownModelConfigIsRefusedUpFront() throws {
        try assertRefusedUpFront(["--model-config", "ref-2m"],
                                 saying: "--model-config: 'ref-2m' is neither a preset (ref-1m, demo, dim512) nor a readable file")
    }

    /// `rft demo ARGS` exits non-zero with `message` on stderr and writes nothing.
    private func assertRefusedUpFront(_ args: [String], saying message: String, line: UInt = #line) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try RFTBinary.run(["demo", "--run-dir", dir.path] + args)
        XCTAssertNotEqual(r.status, 0, line: line)
        XCTAssertTrue(r.stderr.contains(message), r.stderr, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "nothing is written for a refused command", line: line)
    }

    /// `--data-only` writes the four prompt files, in Bedrock format and disjoint, and trains nothing.
    func testDataOnlyWritesTheSplitsAndStops() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try RFTBinary.run(["demo", "--run-dir", dir.path, "--data-only", "--sft-examples", "50", "--train-prompts", "120",
                                   "--validation-prompts", "30", "--test-prompts", "40", "--ood-prompts", "20"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var questions: [String: Set<String>] = [:]
        for (name, count) in [("train", 120), ("validation", 30), ("test", 40), ("ood", 20)] {
            let text = try String(contentsOf: dir.appendingPathComponent("data/\(name).jsonl"), encoding: .utf8)
            let lines = text.split(separator: "\n")
            XCTAssertEqual(lines.count, count, name)
            for line in lines {
                let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                XCTAssertNotNil(record["reference_answer"] as? String, name)
                let messages = try XCTUnwrap(record["messages"] as? [[String: Any]])
                questions[name, default: []].insert(try XCTUnwrap(messages.last?["content"] as? String))
            }
        }
        let names = Array(questions.keys)
        for (i, a) in names.enumerated() { for b in names[(i + 1)...] { XCTAssertTrue(questions[a]!.isDisjoint(with: questions[b]!), "\(a) and \(b) share a question") } }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("base").path), "no base model is trained")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("summary.json").path), "no run is started")
    }
}
