import XCTest
import GraderRuntime
@testable import GRPOTrainer
import JSON

final class ConfigTests: XCTestCase {
    let minimal: JSONValue = ["data": ["train": "train.jsonl"], "model": ["preset": "ref-1m"], "rewards": "rewards.json"]

    func testDefaultsAreTRLLike() throws {
        let c = try TrainConfig.parse(minimal, baseDirectory: "/cfg")
        XCTAssertEqual(c.trainData, "/cfg/train.jsonl")
        XCTAssertEqual(c.rewards, .spec(path: "/cfg/rewards.json"))
        let h = c.hyperparameters
        XCTAssertEqual(h.numGenerations, 8)
        XCTAssertEqual(h.epsilon, 0.2); XCTAssertEqual(h.epsilonHigh, 0.2)
        XCTAssertEqual(h.scaleRewards, .group); XCTAssertEqual(h.lossType, .grpo)
        XCTAssertEqual(h.numIterations, 1); XCTAssertEqual(h.maxGradNorm, 1.0)
    }

    func testLossTypeDefaultsFollowThePapers() throws {
        var j = minimal.objectValue!
        j["hyperparameters"] = ["loss_type": "dapo"]
        var h = try TrainConfig.parse(.object(j)).hyperparameters
        XCTAssertEqual(h.epsilonHigh, 0.28); XCTAssertEqual(h.beta, 0)
        j["hyperparameters"] = ["loss_type": "dr_grpo"]
        h = try TrainConfig.parse(.object(j)).hyperparameters
        XCTAssertEqual(h.scaleRewards, ScaleRewards.none)
        // An explicit value wins over the loss-type default.
        j["hyperparameters"] = ["loss_type": "dapo", "epsilon_high": 0.3]
        XCTAssertEqual(try TrainConfig.parse(.object(j)).hyperparameters.epsilonHigh, 0.3)
    }

    func assertConfigError(_ hyper: JSONValue, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        var j = minimal.objectValue!
        j["hyperparameters"] = hyper
        XCTAssertThrowsError(try TrainConfig.parse(.object(j)), file: file, line: line) { error in
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' lacks '\(p)'", file: file, line: line) }
        }
    }

    func testErrorsNameFieldAndRange() {
        assertConfigError(["learning_rate": 5], contains: ["hyperparameters.learning_rate", "0 < x ≤ 0.1"])
        assertConfigError(["num_generations": 1], contains: ["hyperparameters.num_generations", "2 to 256"])
        assertConfigError(["loss_type": "ppo"], contains: ["hyperparameters.loss_type", "\"grpo\" | \"dr_grpo\" | \"dapo\""])
        assertConfigError(["scale_rewards": "batchy"], contains: ["scale_rewards", "\"group\" | \"batch\" | \"none\""])
        assertConfigError(["batch_size": 2.5], contains: ["hyperparameters.batch_size", "an integer"])
        assertConfigError(["temperature": "hot"], contains: ["hyperparameters.temperature", "a number", "string"])
        assertConfigError(["lerning_rate": 1e-5], contains: ["unknown config field 'hyperparameters.lerning_rate'", "learning_rate"])
        assertConfigError(["epsilon": 0.3, "epsilon_high": 0.2], contains: ["epsilon_high", "≥ epsilon"])
        assertConfigError(["overlong_shaping": ["max_len": 8, "buffer_len": 9]], contains: ["overlong_shaping.buffer_len"])
        XCTAssertThrowsError(try TrainConfig.parse(["model": ["preset": "ref-1m"], "rewards": "r.json"])) {
            XCTAssertTrue("\($0)".contains("'data'"), "\($0)")
        }
    }

    /// `data.test`: one path (split "test") or named splits, resolved like the other paths; a bad
    /// split name or value names its field.
    func testHeldOutTestSplits() throws {
        var j = minimal.objectValue!
        j["data"] = ["train": "train.jsonl", "test": "held.jsonl"]
        XCTAssertEqual(try TrainConfig.parse(.object(j), baseDirectory: "/cfg").testData, [TestSplitPath(name: "test", path: "/cfg/held.jsonl")])
        j["data"] = ["train": "train.jsonl", "test": ["test": "t.jsonl", "ood": "/abs/o.jsonl"]]
        let c = try TrainConfig.parse(.object(j), baseDirectory: "/cfg")
        XCTAssertEqual(c.testData, [TestSplitPath(name: "test", path: "/cfg/t.jsonl"), TestSplitPath(name: "ood", path: "/abs/o.jsonl")])
        XCTAssertEqual(try TrainConfig.parse(c.resolvedJSON).testData, c.testData, "config.json round-trips")
        j["data"] = ["train": "train.jsonl", "test": ["Bad Name": "t.jsonl"]]
        XCTAssertThrowsError(try TrainConfig.parse(.object(j))) { XCTAssertTrue("\($0)".contains("data.test.Bad Name"), "\($0)") }
        j["data"] = ["train": "train.jsonl", "test": ["ood": 3]]
        XCTAssertThrowsError(try TrainConfig.parse(.object(j))) { XCTAssertTrue("\($0)".contains("data.test.ood"), "\($0)") }
    }

    func testOverridesAndYAML() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
        # GRPO on arithmetic
        data:
          train: train.jsonl   # Bedrock format
          validation: "val.jsonl"
        model:
          preset: ref-1m
        rewards:
          spec: rewards.json
        output_dir: runs/x
        hyperparameters:
          learning_rate: 1e-5
          loss_type: dapo
          dynamic_sampling: true
          overlong_shaping:
            max_len: 16
            buffer_len: 4
        """
        let path = dir.appendingPathComponent("c.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: path, overrides: ["batch_size=4", "data.validation=other.jsonl"])
        XCTAssertEqual(c.hyperparameters.learningRate, 1e-5)
        XCTAssertEqual(c.hyperparameters.lossType, .dapo)
        XCTAssertTrue(c.hyperparameters.dynamicSampling)
        XCTAssertEqual(c.hyperparameters.overlongShaping, OverlongShaping(maxLen: 16, bufferLen: 4))
        XCTAssertEqual(c.hyperparameters.batchSize, 4)
        XCTAssertEqual(c.validationData, dir.appendingPathComponent("other.jsonl").standardized.path)
        XCTAssertEqual(c.outputDir, dir.appendingPathComponent("runs/x").standardized.path)
        // The resolved config round-trips.
        XCTAssertEqual(try TrainConfig.parse(c.resolvedJSON), c)
        XCTAssertThrowsError(try TrainConfig.load(path: path, overrides: ["oops"]))
    }
}
