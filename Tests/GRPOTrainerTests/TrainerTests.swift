import XCTest
import GraderRuntime
import TransformerModel
@testable import GRPOTrainer
import JSON

/// The trainer end to end on a toy task, with an in-process reward: "Q: a+b=? A:" → the last digit.
final class TrainerTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func records(_ n: Int, offset: Int = 0) -> [PromptRecord] {
        (0..<n).map { i in
            let a = (i + offset) % 5, b = (i * 3 + offset) % 5
            return PromptRecord(id: "p\(i + offset)", messages: [ChatMessage(role: "user", content: "Q: \(a)+\(b)=? A:")],
                                referenceAnswer: .string(String((a + b) % 10)))
        }
    }

    let exact = ClosureScorer(name: "exact") { r in r.completionText == r.referenceAnswer?.stringValue ? 1 : 0 }

    func config(_ name: String, _ hyper: JSONObject) throws -> TrainConfig {
        var h: JSONObject = ["batch_size": 4, "num_generations": 8, "learning_rate": 0.1, "lr_scheduler": "constant",
                                 "max_completion_length": 2, "eval_interval": 5, "save_interval": 5, "log_samples_interval": 5,
                                 "max_steps": 30, "seed": 3]
        for (k, v) in hyper { h[k] = v }
        return try TrainConfig.parse(["data": ["train": "t.jsonl", "validation": "v.jsonl"], "model": ["preset": "ref-1m"],
                                      "rewards": "r.json", "output_dir": .string(dir.appendingPathComponent(name).path),
                                      "hyperparameters": .object(h)])
    }

    func testGRPORaisesRewardOnToyTask() throws {
        let trainer = try Trainer(config: config("learn", ["beta": 0.04]), policy: TabularPolicy(), scorer: exact,
                                  train: records(12), validation: records(12))
        trainer.say = { _ in }
        let summary = try trainer.run()
        XCTAssertEqual(summary.status, .completed)
        XCTAssertEqual(summary.steps, 30)
        let baseline = try XCTUnwrap(summary.baselineValReward), final = try XCTUnwrap(summary.finalValReward)
        XCTAssertGreaterThanOrEqual(final, max(0.6, 1.66 * baseline), "baseline \(baseline) final \(final)")
        // Run files and their contract keys.
        let run = RunDirectory(dir.appendingPathComponent("learn").path)
        let metrics = run.readLines("metrics.jsonl")
        XCTAssertEqual(metrics.count, 30)
        for key in ["step", "epoch", "time", "reward", "reward_std", "rewards/exact/mean", "rewards/exact/std",
                    "frac_reward_zero_std", "completions/mean_length", "completions/min_length", "completions/max_length",
                    "completions/clipped_ratio", "kl", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean",
                    "clip_ratio/region_mean", "grad_norm", "learning_rate", "num_tokens", "tokens_per_s", "step_time",
                    "grader/latency_ms_mean", "grader/latency_ms_p99"] {
            XCTAssertNotNil(metrics[0][key], key)
        }
        XCTAssertNotNil(metrics[4]["val/reward"]); XCTAssertNil(metrics[3]["val/reward"])
        XCTAssertGreaterThan(metrics.last!["kl"]!.doubleValue!, 0, "β > 0 tracks KL against the frozen reference")
        let samples = run.readLines("samples.jsonl")
        XCTAssertEqual(samples.first?["step"], 1)
        for key in ["prompt_id", "prompt", "completion", "reward", "rewards", "error"] { XCTAssertNotNil(samples[0][key], key) }
        XCTAssertNotNil(run.readJSON("baseline.json")?["histogram"])
        XCTAssertNotNil(run.readJSON("final_eval.json")?["mean_reward"])
        XCTAssertEqual(summary.bestCheckpoint, "checkpoints/best")
        for c in ["best", "final", "step-000025"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.checkpoint(c).appendingPathComponent("trainer_state.json").path), c)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.checkpoint("step-000005").path), "keep_last 3")
    }

    /// Held-out splits are scored before and after training and reported under their own names; they
    /// never pick the best checkpoint (validation does), and a resumed summary keeps their baselines.
    func testHeldOutSplitsAreScoredBeforeAndAfterOnly() throws {
        let trainer = try Trainer(config: config("held", ["max_steps": 10]), policy: TabularPolicy(), scorer: exact,
                                  train: records(12), validation: records(12),
                                  tests: [TestSplit(name: "test", records: records(10, offset: 20)),
                                          TestSplit(name: "ood", records: records(6, offset: 40))])
        trainer.say = { _ in }
        let summary = try trainer.run()
        XCTAssertEqual(summary.status, .completed)
        XCTAssertEqual(summary.testSplits.map(\.name), ["test", "ood"])
        XCTAssertEqual(summary.testSplits.map(\.prompts), [10, 6])
        let run = RunDirectory(dir.appendingPathComponent("held").path)
        for name in ["test", "ood"] {
            let base = try XCTUnwrap(run.readJSON("\(name)_baseline.json")), final = try XCTUnwrap(run.readJSON("\(name)_final.json"))
            let split = try XCTUnwrap(summary.testSplits.first { $0.name == name })
            XCTAssertEqual(split.baselineReward, base["mean_reward"]?.doubleValue)
            XCTAssertEqual(split.finalReward, final["mean_reward"]?.doubleValue)
            XCTAssertNotNil(split.baselineStderr); XCTAssertNotNil(split.finalStderr)
        }
        // summary.json carries the flat contract keys and reads back the same.
        let json = try XCTUnwrap(run.readJSON("summary.json"))
        for key in ["test_baseline_reward", "test_final_reward", "test_baseline_stderr", "test_final_stderr",
                    "ood_baseline_reward", "ood_final_reward", "ood_prompts"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertEqual(json["test_final_reward"]?.doubleValue, summary.testSplits[0].finalReward)
        XCTAssertEqual(try run.readSummary().testSplits, summary.testSplits)
        // Only validation evaluations appear in the metrics; the held-out splits are not in the per-step log.
        let keys = Set(run.readLines("metrics.jsonl").flatMap { $0.objectValue?.keys ?? [] })
        XCTAssertFalse(keys.contains { $0.hasPrefix("test") || $0.hasPrefix("ood") }, "\(keys.sorted())")
    }

    /// Micro-batches keep groups whole (so a group's prompt is computed once), split only groups
    /// larger than the limit, and cover every sequence once, in order.
    func testMicroBatchesKeepGroupsTogether() {
        XCTAssertEqual(Trainer.microBatches(groupSizes: [8, 8, 8, 8], limit: 16), [0..<16, 16..<32])
        XCTAssertEqual(Trainer.microBatches(groupSizes: [6, 6, 6], limit: 16), [0..<12, 12..<18])
        XCTAssertEqual(Trainer.microBatches(groupSizes: [4, 20, 2], limit: 8), [0..<4, 4..<12, 12..<20, 20..<26])
        XCTAssertEqual(Trainer.microBatches(groupSizes: [3], limit: 1), [0..<1, 1..<2, 2..<3])
        XCTAssertEqual(Trainer.microBatches(groupSizes: [], limit: 16), [])
    }

    func testResumeContinuesExactly() throws {
        let full = try Trainer(config: config("full", ["max_steps": 8, "save_interval": 3, "num_iterations": 2]),
                               policy: TabularPolicy(), scorer: exact, train: records(6), validation: records(4))
        full.say = { _ in }
        try full.run()
        let cut = try Trainer(config: config("cut", ["max_steps": 8, "save_interval": 3, "num_iterations": 2]),
                              policy: TabularPolicy(), scorer: exact, train: records(6), validation: records(4))
        cut.say = { _ in }
        cut.onStep = { line in if line["step"]?.doubleValue == 4 { cut.stop.set() } }
        XCTAssertEqual(try cut.run().status, .stopped)
        let resumed = try Trainer(config: config("cut", ["max_steps": 8, "save_interval": 3, "num_iterations": 2]),
                                  policy: TabularPolicy(), scorer: exact, train: records(6), validation: records(4))
        resumed.say = { _ in }
        XCTAssertEqual(try resumed.run(resume: true).status, .completed)
        let keys = ["reward", "reward_std", "grad_norm", "kl", "entropy", "learning_rate", "val/reward", "num_tokens"]
        let a = RunDirectory(dir.appendingPathComponent("full").path).readLines("metrics.jsonl")
        let b = RunDirectory(dir.appendingPathComponent("cut").path).readLines("metrics.jsonl")
        XCTAssertEqual(b.map { $0["step"]!.doubleValue! }, (1...8).map(Double.init))
        for (x, y) in zip(a, b) { for k in keys { XCTAssertEqual(x[k], y[k], "step \(x["step"]!) \(k)") } }
    }

    func testFailedSamplesDoNotPoisonStatistics() throws {
        // Every sample of prompt p0 fails grading; prompt p1's "7" abstains.
        let flaky = FlakyScorer()
        let trainer = try Trainer(config: config("flaky", ["max_steps": 3, "batch_size": 2, "dynamic_sampling": true,
                                                             "max_grader_error_rate": 0.9]),
                                  policy: TabularPolicy(), scorer: flaky, train: records(2), validation: [])
        trainer.say = { _ in }
        var lines: [JSONValue] = []
        trainer.onStep = { lines.append($0) }
        try trainer.run()
        for l in lines {
            XCTAssertNotNil(l["reward"]?.doubleValue, "reward is finite")
            XCTAssertTrue(l["grad_norm"]!.doubleValue!.isFinite)
            let crashes = l["grader/errors/crash"]?.doubleValue ?? 0
            XCTAssertEqual(crashes.truncatingRemainder(dividingBy: 8), 0, "one crash per sample of p0")
            XCTAssertLessThanOrEqual(l["dynamic_sampling/groups_kept"]!.doubleValue!, 2)
        }
        XCTAssertGreaterThan(lines.map { $0["grader/errors/crash"]?.doubleValue ?? 0 }.reduce(0, +), 0)
        let samples = RunDirectory(dir.appendingPathComponent("flaky").path).readLines("samples.jsonl")
        XCTAssertTrue(samples.contains { $0["error"]?["type"] == "crash" && $0["reward"] == .null })
    }

    func testRewardScoringOverlapsSampling() throws {
        // A scorer that takes 20 ms per call: the step waits for grading far less than 8 × 20 ms.
        let slow = ClosureScorer(name: "slow") { r in usleep(2_500); return (r.completionText ?? "").isEmpty ? 0 : 1 }
        let trainer = try Trainer(config: config("overlap", ["max_steps": 1, "batch_size": 8, "sampling_chunk": 1]),
                                  policy: SlowSampler(delay: 0.02), scorer: slow, train: records(8), validation: [])
        trainer.say = { _ in }
        var line: JSONValue = .null
        trainer.onStep = { line = $0 }
        try trainer.run()
        let wait = line["timing/grading_wait_s"]!.doubleValue!, sampling = line["timing/sampling_s"]!.doubleValue!
        XCTAssertGreaterThan(sampling, 0.15)
        XCTAssertLessThan(wait, 0.1, "grading ran during sampling; only the last group is waited for")
    }
}

final class FlakyScorer: Scorer, @unchecked Sendable {
    let graders = [ServedGrader(name: "exact", manifest: .null)]
    func score(_ samples: [Sample], grader: String) async throws -> [RewardResult] {
        samples.map { s in
            // Sample ids are `<prompt id>#<step>.<k>`.
            if s.id.hasPrefix("p0#") { return RewardResult(grader: "exact", result: .failed(s.id, .crash, "boom")) }
            if s.completionText == "7" { return RewardResult(grader: "exact", result: SampleResult(id: s.id, outcome: .abstained)) }
            let v = s.completionText == s.referenceAnswer?.stringValue ? 1.0 : 0.0
            return RewardResult(grader: "exact", result: SampleResult(id: s.id, outcome: .scored(v)))
        }
    }
}

/// A tabular policy whose sampling takes `delay` seconds per group (to observe overlap).
final class SlowSampler: GRPOPolicy {
    let inner = TabularPolicy()
    let delay: Double
    init(delay: Double) { self.delay = delay }
    func encodePrompt(_ messages: [ChatMessage]) -> [Int] { inner.encodePrompt(messages) }
    func decode(_ tokens: [Int]) -> String { inner.decode(tokens) }
    func sample(prompts: [[Int]], count: Int, settings: SamplingSettings, seed: UInt64) -> [[SampledCompletion]] {
        usleep(UInt32(delay * 1e6 * Double(prompts.count))); return inner.sample(prompts: prompts, count: count, settings: settings, seed: seed)
    }
    func logProbs(_ batch: [PolicySequence]) -> [[Float]] { inner.logProbs(batch) }
    func accumulateGradients(_ batch: [PolicySequence], lossGradient: ([[Float]]) -> [[Float]]) -> GradientPass {
        inner.accumulateGradients(batch, lossGradient: lossGradient)
    }
    func applyGradients(learningRate: Double) -> Double { inner.applyGradients(learningRate: learningRate) }
    func frozenCopy() -> GRPOPolicy { inner.frozenCopy() }
    func save(to directory: URL) throws { try inner.save(to: directory) }
    func restore(from directory: URL) throws { try inner.restore(from: directory) }
}
