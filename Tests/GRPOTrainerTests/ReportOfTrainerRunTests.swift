import Foundation
import XCTest
import GraderRuntime
import TransformerModel
@testable import GRPOTrainer
@testable import RunReports

/// The report of a real training run (templates/math in the sandboxed grader runtime) shows the
/// metrics that run wrote, under the names of `StepMetrics.CodingKeys`.
final class ReportOfTrainerRunTests: XCTestCase {
    func testReportShowsTheMetricsOfARealRun() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scorer = try SandboxScorer(spec: RewardSpec.load(repo.appendingPathComponent("templates/math")))
        defer { scorer.shutdown() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let records = (0..<4).map { i in
            PromptRecord(id: "q\(i)", messages: [ChatMessage(role: "user", content: "Q: \(i)+2=? A:")],
                         referenceAnswer: .string(String(i + 2)))
        }
        let config = try TrainConfig.parse(["data": ["train": "t.jsonl", "validation": "v.jsonl"], "model": ["preset": "ref-1m"],
                                            "rewards": "templates/math", "output_dir": .string(dir.path),
                                            "hyperparameters": ["batch_size": 2, "num_generations": 4, "max_completion_length": 2,
                                                                "learning_rate": 0.1, "max_steps": 3, "eval_interval": 2,
                                                                "save_interval": 2, "seed": 5]])
        let trainer = try Trainer(config: config, policy: TabularPolicy(), scorer: scorer, train: records, validation: records)
        trainer.say = { _ in }
        XCTAssertEqual(try trainer.run().status, .completed)

        // Every line of metrics.jsonl decodes as StepMetrics, and every key the trainer wrote is
        // one of its names: the fixed CodingKeys or a per-grader / per-error / pass@k FlatKey.
        let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let written = try lines.map { try JSONDecoder().decode(StepMetrics.self, from: Data($0.utf8)) }
        XCTAssertEqual(written.map(\.step), [1, 2, 3])
        XCTAssertEqual(written.map { $0.validation != nil }, [false, true, true], "eval_interval 2 and the last step")
        XCTAssertEqual(Set(written.flatMap(\.rewards.keys)), ["math"])
        let run = try RunData(runDirectory: dir)
        let fixed = Set(StepMetrics.CodingKeys.allCases.map(\.rawValue))
        for key in run.metricKeys {
            XCTAssertTrue(fixed.contains(key) || StepMetrics.FlatKey(name: key) != nil, "\(key) is not a StepMetrics name")
        }
        for key in [StepMetrics.CodingKeys.reward, .kl, .entropy, .gradNorm, .learningRate, .stepTime, .timingUpdateS] {
            XCTAssertEqual(run.series(key).map(\.x), [1, 2, 3], key.rawValue)
        }
        XCTAssertEqual(run.series(.valReward).map(\.y), written.compactMap { $0.validation?.reward })
        XCTAssertEqual(run.series(.rewardMean(grader: "math")).map(\.y), written.compactMap { $0.rewards["math"]?.mean })

        // The report shows those figures: the last train reward, the steps, the validation
        // headline, a per-grader line for "math" and the timing parts of the step time.
        let html = try ReportBuilder(runDirectory: dir).html()
        let summary = try RunDirectory(dir.path).readSummary()
        let lastReward = try XCTUnwrap(written.last?.reward)
        XCTAssertTrue(html.contains("<dt>Last train reward</dt><dd>\(HTMLText.number(lastReward))</dd>"))
        XCTAssertTrue(html.contains("<dt>Steps</dt><dd>3 / 3</dd>"))
        XCTAssertTrue(html.contains("<dt>Status</dt><dd>Completed</dd>"), "status from summary.json")
        let base = try XCTUnwrap(summary.baselineValReward), final = try XCTUnwrap(summary.finalValReward)
        XCTAssertTrue(html.contains("Validation reward \(HTMLText.number(base)) → \(HTMLText.number(final))"))
        let svgs = html.components(separatedBy: "<svg ").dropFirst()
        let graders = try XCTUnwrap(svgs.first { $0.contains("Per-grader reward (mean)") })
        XCTAssertTrue(graders.contains(">math<"), "legend names the grader")
        XCTAssertEqual(graders.components(separatedBy: "<path class=\"line\"").count - 1, 1)
        let stepTime = try XCTUnwrap(svgs.first { $0.contains("Step time (s)") })
        for part in ["step", "sampling", "grading_wait", "update"] { XCTAssertTrue(stepTime.contains(">\(part)<"), part) }
        XCTAssertEqual(stepTime.components(separatedBy: "<path class=\"line\"").count - 1, 4)
    }
}
