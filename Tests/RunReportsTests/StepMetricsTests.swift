import Foundation
import JSON
import XCTest
@testable import RunReports

/// `StepMetrics` is the `metrics.jsonl` line: flat TRL/verl names, null for missing or non-finite
/// values, and the step-dependent keys only on the steps that have them.
final class StepMetricsTests: XCTestCase {
    /// The line as the report parses it.
    func object(_ m: StepMetrics) throws -> JSONValue {
        try JSONValue.parse(Array(JSONEncoder().encode(m)))
    }

    func testEncodesFlatNamesAndDecodesBack() throws {
        var m = StepMetrics(step: 7, epoch: 1, time: 1_700_000_000.5, numTokens: 4096)
        m.reward = 0.5
        m.rewardStd = .nan
        m.rewards = ["math": .init(mean: 0.25, std: 0.5), "format": .init(mean: 1, std: nil)]
        m.graderErrors = ["timeout": 2]
        m.validation = .init(reward: 0.75, passRate: 0.5, passAtK: (k: 4, value: 0.875))
        m.warnings = [.init(kind: "reward_collapse", message: "all rewards 0")]
        let json = try object(m)
        XCTAssertEqual(json["step"]?.intValue, 7)
        XCTAssertEqual(json["reward"]?.numericValue, 0.5)
        XCTAssertTrue(json["reward_std"] == .null, "NaN is written as null")
        XCTAssertTrue(json["loss"] == .null, "always-present keys are null when unknown")
        XCTAssertEqual(json["rewards/math/mean"]?.numericValue, 0.25)
        XCTAssertEqual(json["rewards/math/std"]?.numericValue, 0.5)
        XCTAssertTrue(json["rewards/format/std"] == .null)
        XCTAssertEqual(json["grader/errors/timeout"]?.intValue, 2)
        XCTAssertEqual(json["val/reward"]?.numericValue, 0.75)
        XCTAssertEqual(json["val/pass_rate"]?.numericValue, 0.5)
        XCTAssertEqual(json["val/pass@4"]?.numericValue, 0.875)
        XCTAssertEqual(json["warnings"]?.arrayValue?.first?["kind"]?.stringValue, "reward_collapse")
        XCTAssertNil(json["grader/abstained"]); XCTAssertNil(json["dynamic_sampling/groups_kept"])
        // Every key written is a CodingKey or a FlatKey name.
        let fixed = Set(StepMetrics.CodingKeys.allCases.map(\.rawValue))
        for key in (json.objectValue?.keys ?? []) { XCTAssertTrue(fixed.contains(key) || StepMetrics.FlatKey(name: key) != nil, key) }

        let back = try JSONDecoder().decode(StepMetrics.self, from: JSONEncoder().encode(m))
        XCTAssertNil(back.rewardStd, "NaN reads back as no value")
        m.rewardStd = nil
        XCTAssertEqual(back, m)
    }

    func testStepsWithoutValidationOmitItsKeys() throws {
        let json = try object(StepMetrics(step: 1, epoch: 0, time: 0, numTokens: 0))
        for key in ["val/reward", "val/pass_rate", "warnings", "grader/abstained"] { XCTAssertNil(json[key], key) }
        XCTAssertFalse((json.objectValue?.keys ?? []).contains { $0.hasPrefix("val/pass@") || $0.hasPrefix("rewards/") || $0.hasPrefix("grader/errors/") })
        XCTAssertEqual(try JSONDecoder().decode(StepMetrics.self, from: JSONEncoder().encode(StepMetrics(step: 1, epoch: 0, time: 0, numTokens: 0))).validation, nil)
    }

    func testFlatKeyNamesRoundTrip() {
        for key in [StepMetrics.FlatKey.rewardMean(grader: "a/b"), .rewardStd(grader: "x"), .graderErrors(type: "timeout"), .valPassAtK(k: 8)] {
            XCTAssertEqual(StepMetrics.FlatKey(name: key.name), key, key.name)
        }
        XCTAssertNil(StepMetrics.FlatKey(name: "reward"))
        XCTAssertNil(StepMetrics.FlatKey(name: "val/pass_rate"))
    }
}
