import Foundation
import XCTest
@testable import RunReports

final class RunDataTests: XCTestCase {
    func testLoadsAFullRun() throws {
        let dir = try RunFixture(steps: 60).write()
        let run = try RunData(runDirectory: dir)
        XCTAssertEqual(run.metrics.map(\.step), Array(1...60))
        XCTAssertEqual(run.problems, [])
        XCTAssertEqual(run.series("val/reward").map(\.x), [10, 20, 30, 40, 50, 60])
        XCTAssertEqual(run.warnings.map(\.step), [24, 41])
        XCTAssertEqual(run.warnings.first?.kind, "reward_variance_rising")
        XCTAssertEqual(run.samples.count, 13 * 8)
        let errored = run.samples.first { $0.error != nil }
        XCTAssertEqual(errored?.error, "timeout: grader exceeded 2000 ms")
        XCTAssertNil(errored?.reward)
        XCTAssertEqual(run.summary?["status"]?.stringValue, "Completed")
    }

    func testHalfWrittenLastLineAndNaNAreTolerated() throws {
        let dir = try RunFixture(steps: 20, halfWrittenLastLine: true, withNaN: true).write()
        let run = try RunData(runDirectory: dir)
        XCTAssertEqual(run.metrics.count, 20)
        XCTAssertEqual(run.problems.count, 1)
        XCTAssertTrue(run.problems[0].hasPrefix("metrics.jsonl:21:"), run.problems[0])
        XCTAssertTrue(run.problems[0].contains("half-written last line"), run.problems[0])
        XCTAssertTrue(run.metrics[9].values["kl"]!.isNaN)
        XCTAssertFalse(run.series("kl").map(\.x).contains(10))  // NaN points are not plotted
        XCTAssertEqual(run.series("grad_norm").count, 19)       // nor is +Infinity
    }

    func testBadLinesAndRepeatedStepsAfterAResume() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
        {"step": 1, "reward": 0.1}
        {"step": 2, "reward": 0.2}
        not json
        {"reward": 0.9}
        {"step": 2, "reward": 0.25, "kl": "0.5", "warnings": ["plain text warning"]}
        {"step": 3, "reward": null}

        """.write(to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try "[1, 2]\n{\"step\": 2, \"completion\": [{\"role\": \"assistant\", \"content\": \"hi\"}]}\n"
            .write(to: dir.appendingPathComponent("samples.jsonl"), atomically: true, encoding: .utf8)
        try "{oops".write(to: dir.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
        let run = try RunData(runDirectory: dir)
        XCTAssertEqual(run.metrics.map(\.step), [1, 2, 3])
        XCTAssertEqual(run.metrics[1].values["reward"], 0.25)  // the later record of step 2 wins
        XCTAssertEqual(run.metrics[1].values["kl"], 0.5)
        XCTAssertEqual(run.metrics[1].warnings.first?.message, "plain text warning")
        XCTAssertNil(run.metrics[2].values["reward"])
        XCTAssertEqual(run.samples.map(\.completion), ["assistant: hi"])
        XCTAssertNil(run.summary)
        XCTAssertEqual(run.problems.map { String($0.prefix(while: { $0 != " " })) },
                       ["metrics.jsonl:3:", "metrics.jsonl:4:", "samples.jsonl:1:", "summary.json:"])
    }

    func testMissingDirectoryIsATypedError() {
        XCTAssertThrowsError(try RunData(runDirectory: URL(fileURLWithPath: "/nonexistent/run"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent/run: not a run directory"), "\($0)")
        }
    }
}
