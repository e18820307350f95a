import XCTest
import GraderRuntime
@testable import GRPOTrainer
import JSON
import TransformerModel

/// A grader that fails never goes unnoticed: the run fails with the reason and the first messages by
/// type, evaluations count typed errors under every on_error, and the advice says to fix the grader.
final class GraderFailureTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grader-failure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func records(_ n: Int) -> [PromptRecord] {
        (0..<n).map { PromptRecord(id: "p\($0)", messages: [ChatMessage(role: "user", content: "Q: \($0 % 5)+1=? A:")],
                                   referenceAnswer: .string(String($0 % 5 + 1))) }
    }

    func config(_ name: String, _ hyper: JSONObject) throws -> TrainConfig {
        var h: JSONObject = ["batch_size": 2, "num_generations": 4, "learning_rate": 0.1, "max_completion_length": 2,
                             "eval_interval": 5, "save_interval": 0, "max_steps": 3, "seed": 3]
        for (k, v) in hyper { h[k] = v }
        return try TrainConfig.parse(["data": ["train": "t.jsonl"], "model": ["preset": "ref-1m"], "rewards": "r.json",
                                      "output_dir": .string(dir.appendingPathComponent(name).path), "hyperparameters": .object(h)])
    }

    /// Fails every sample the way a judge grader does when its endpoint is down; `on_error: zero` gives them 0.
    final class DownScorer: Scorer, @unchecked Sendable {
        let graders = [ServedGrader(name: "judge", manifest: .null)]
        let zero: Bool
        init(zero: Bool) { self.zero = zero }
        func score(_ samples: [Sample], grader: String) async throws -> [RewardResult] {
            samples.map { s in
                RewardAggregation.combine(id: s.id, results: [("judge", 1, zero ? .zero : .skip,
                    .failed(s.id, .handlerError, "ConnectionRefusedError: [Errno 111] Connection refused (at judge_grader.py:120)\nTraceback ..."))])
            }
        }
    }

    func testAShortRunWhoseGradingFailsEndsFailedWithTheReason() throws {
        // 3 steps, fewer than the 5-step window: checked at the last step, never "Completed".
        let trainer = try Trainer(config: config("short", [:]), policy: TabularPolicy(), scorer: DownScorer(zero: true),
                                  train: records(4), validation: [])
        var told: [String] = []
        trainer.say = { told.append($0) }
        XCTAssertThrowsError(try trainer.run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("grading failed on 100.0% of samples (24 of 24) during steps 1-3, above max_grader_error_rate 0.5"), text)
            XCTAssertTrue(text.contains("\n  handler_error ×24: ConnectionRefusedError: [Errno 111] Connection refused (at judge_grader.py:120)"), text)
        }
        let run = RunDirectory(dir.appendingPathComponent("short").path)
        let summary = try run.readSummary()
        XCTAssertEqual(summary.status, .failed)
        XCTAssertEqual(summary.steps, 3)
        XCTAssertTrue(summary.error?.contains("max_grader_error_rate") == true)
        XCTAssertEqual(summary.graderErrors?.byType["handler_error"]?.count, 24)
        XCTAssertEqual(summary.graderErrors?.byType["handler_error"]?.examples.count, 1, "distinct messages only")
        // The first occurrence of the error type was said out loud at step 1.
        XCTAssertTrue(told.contains { $0.hasPrefix("grader error at step 1 (8 of 8 samples failed): handler_error ×8: ConnectionRefusedError") }, "\(told)")
        XCTAssertEqual(run.readLines("metrics.jsonl").last?["grader/errors/handler_error"], 8)
    }

    func testTheWindowStopsALongRunEarly() throws {
        let trainer = try Trainer(config: config("window", ["max_steps": 50, "grader_error_window": 2]), policy: TabularPolicy(),
                                  scorer: DownScorer(zero: false), train: records(4), validation: [])
        trainer.say = { _ in }
        XCTAssertThrowsError(try trainer.run()) { XCTAssertTrue("\($0)".contains("during steps 1-2"), "\($0)") }
        XCTAssertEqual(try RunDirectory(dir.appendingPathComponent("window").path).readSummary().steps, 2)
    }

    func testTheBaselineCatchesABrokenGraderBeforeAnyStep() throws {
        let trainer = try Trainer(config: config("baseline", [:]), policy: TabularPolicy(), scorer: DownScorer(zero: true),
                                  train: records(4), validation: records(5))
        trainer.say = { _ in }
        XCTAssertThrowsError(try trainer.run()) { XCTAssertTrue("\($0)".contains("(5 of 5) during the baseline evaluation"), "\($0)") }
        let run = RunDirectory(dir.appendingPathComponent("baseline").path)
        XCTAssertEqual(try run.readSummary().steps, 0)
        XCTAssertEqual(run.readJSON("baseline.json")?["errors"]?["handler_error"], 5, "baseline.json counts errors under on_error: zero")
    }

    func testRaisingTheThresholdLetsTheRunComplete() throws {
        let trainer = try Trainer(config: config("allowed", ["max_grader_error_rate": 1]), policy: TabularPolicy(),
                                  scorer: DownScorer(zero: true), train: records(4), validation: [])
        trainer.say = { _ in }
        let summary = try trainer.run()
        XCTAssertEqual(summary.status, .completed)
        XCTAssertEqual(summary.graderErrors?.total, 24, "the counts are kept even when the run may go on")
    }

    func testEvaluationCountsErrorsUnderEveryOnErrorAndAdvisesFixingTheGrader() throws {
        for zero in [true, false] {
            let report = try Evaluator(scorer: DownScorer(zero: zero), passThreshold: 1, maxErrorRate: 0.5)
                .evaluate(records(10), sampler: { rs, n, _, _ in rs.map { _ in Array(repeating: "2", count: n) } }, temperature: 0, seed: 1)
            XCTAssertEqual(report.errors, ["handler_error": 10], "on_error \(zero ? "zero" : "skip")")
            XCTAssertEqual(report.errorRate, 1)
            XCTAssertEqual(report.recommendation, .fixGrader)
            XCTAssertEqual(report.abstained, 0, "an error is not an abstention")
            let text = report.rendered(title: "t")
            XCTAssertTrue(text.contains("grading errors: 10 of 10 samples (100.0%)"), text)
            XCTAssertTrue(text.contains("handler_error ×10: ConnectionRefusedError"), text)
            XCTAssertTrue(text.contains("recommendation: your grader failed on 100.0% of samples: fix it first"), text)
            XCTAssertFalse(text.contains("supervised fine-tuning"), text)
        }
        // Below the threshold the usual advice stands, with a note about the errors.
        let flaky = ClosureScorer(name: "x") { _ in 0 }
        let ok = try Evaluator(scorer: flaky, passThreshold: 1).evaluate(records(4), sampler: { rs, n, _, _ in rs.map { _ in Array(repeating: "1", count: n) } },
                                                                          temperature: 0, seed: 1)
        XCTAssertEqual(ok.errors, [:])
        XCTAssertEqual(ok.recommendation, .sftFirst)
    }

    /// Prompts are sampled in batches of `chunk`, in order, and each text is graded against its own record.
    func testEvaluationSamplesInBatchesAndKeepsEachAnswerWithItsPrompt() throws {
        let exact = ClosureScorer(name: "exact") { s in s.completionText == s.referenceAnswer?.stringValue ? 1 : 0 }
        var evaluator = Evaluator(scorer: exact, passThreshold: 1)
        evaluator.chunk = 4
        var batches: [[String]] = []
        // Right on p0, p3, p6, p9 (answer = reference), wrong elsewhere; pass@2 right on the second draw.
        let report = try evaluator.evaluate(records(10), sampler: { rs, n, _, _ in
            batches.append(rs.map(\.id))
            return rs.map { r in
                let i = Int(r.id.dropFirst())!, ref = String(i % 5 + 1)
                return n == 1 ? [i % 3 == 0 ? ref : "0"] : ["0", ref]
            }
        }, temperature: 0, passK: 2, seed: 1)
        XCTAssertEqual(batches, [["p0", "p1", "p2", "p3"], ["p0", "p1", "p2", "p3"], ["p4", "p5", "p6", "p7"],
                                 ["p4", "p5", "p6", "p7"], ["p8", "p9"], ["p8", "p9"]])
        XCTAssertEqual(report.samples, 10)
        XCTAssertEqual(report.meanReward ?? -1, 0.4, accuracy: 1e-12)
        XCTAssertEqual(report.passAtK, 1)
        XCTAssertEqual(report.examples.map(\.promptID), (0..<10).map { "p\($0)" })
        XCTAssertEqual(report.examples.map(\.reward), (0..<10).map { $0 % 3 == 0 ? 1 : 0 })
    }

    func testEveryUnknownConfigKeyIsReportedAtOnceWithASuggestion() throws {
        let json: JSONValue = ["data": ["trian": "t.jsonl", "train": "t.jsonl"], "model": ["preset": "ref-1m"], "rewards": "r.json",
                               "hyperparameters": ["lerning_rate": 1e-5, "batch_sise": 4, "zzz": 1]]
        XCTAssertThrowsError(try TrainConfig.parse(json)) {
            XCTAssertEqual("\($0)", """
                4 unknown config fields:
                  unknown config field 'data.trian' (did you mean 'train'?)
                  unknown config field 'hyperparameters.batch_sise' (did you mean 'batch_size'?)
                  unknown config field 'hyperparameters.lerning_rate' (did you mean 'learning_rate'?)
                  unknown config field 'hyperparameters.zzz'; known fields here: \(Hyperparameters.CodingKeys.allCases.map(\.rawValue).sorted().joined(separator: ", "))
                """)
        }
        // YAML alike.
        let yaml = "data:\n  train: t.jsonl\nmodel:\n  preset: demo\nrewards: r.json\nhyperparameters:\n  max_step: 3\n  temprature: 0.7\n"
        let path = dir.appendingPathComponent("c.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainConfig.load(path: path)) {
            XCTAssertTrue("\($0)".contains("'hyperparameters.max_step' (did you mean 'max_steps'?)"), "\($0)")
            XCTAssertTrue("\($0)".contains("'hyperparameters.temprature' (did you mean 'temperature'?)"), "\($0)")
        }
    }

    func testPresetsAreOneListAndMaxCompletionLengthFitsTheModel() throws {
        // Every preset the help lists is accepted by the config check, and its size is right.
        for p in ModelConfig.presets {
            let c = try TrainConfig.parse(["data": ["train": "t.jsonl"], "model": ["preset": .string(p.name)], "rewards": "r.json"])
            XCTAssertEqual(c.model, .scratch(p.config))
            XCTAssertEqual(p.config.parameterCount, Transformer(config: p.config, seed: 1).parameterCount, p.name)
        }
        XCTAssertThrowsError(try TrainConfig.parse(["data": ["train": "t.jsonl"], "model": ["preset": "big"], "rewards": "r.json"])) {
            XCTAssertTrue("\($0)".contains(#"allowed: "ref-1m" | "demo" | "dim512""#), "\($0)")
        }
        // Left out, max_completion_length fits the 256-token context of ref-1m; set too long, the error names the option.
        let c = try TrainConfig.parse(["data": ["train": "t.jsonl"], "model": ["preset": "ref-1m"], "rewards": "r.json"])
        let policy = try TrainingSetup.policy(c.model, hyperparameters: c.hyperparameters)
        var h = c.hyperparameters
        TrainingSetup.fitCompletionLength(&h, maxSeqLen: policy.model.config.maxSeqLen)
        XCTAssertEqual(h.maxCompletionLength, 128)
        var long = Hyperparameters()
        long.maxCompletionLength = 300; long.maxCompletionLengthIsDefault = false
        XCTAssertThrowsError(try TrainingSetup.policy(c.model, hyperparameters: long)) {
            XCTAssertTrue("\($0)".hasPrefix("config field 'hyperparameters.max_completion_length' = 300 is out of range; allowed: at most 255"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingSetup.policy(c.model, hyperparameters: long, lengthOption: "--max-tokens")) {
            XCTAssertTrue("\($0)".hasPrefix("--max-tokens 300 is out of range; allowed: at most 255"), "\($0)")
        }
    }
}
