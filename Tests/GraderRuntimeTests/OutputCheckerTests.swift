import XCTest
@testable import GraderRuntime

final class OutputCheckerTests: XCTestCase {
    private func check(_ output: String, ids: [String] = ["a", "b"], range: ClosedRange<Double>? = nil) -> [SampleResult] {
        OutputChecker(scoreRange: range).check(output: Array(output.utf8), ids: ids)
    }

    func testGoodOutputKeepsMetrics() {
        let r = check(#"[{"id": "b", "aggregate_reward_score": 0.5}, {"id": "a", "aggregate_reward_score": 1, "metrics_list": [{"name": "acc", "value": 1, "type": "Reward"}]}]"#)
        XCTAssertEqual(r.map(\.id), ["a", "b"])
        XCTAssertEqual(r[0].score, 1)
        XCTAssertEqual(r[0].metrics, [Metric(name: "acc", value: 1, type: "Reward")])
        XCTAssertEqual(r[1].score, 0.5)
    }

    func testOneBadEntryDoesNotSinkTheBatch() {
        let r = check(#"[{"id": "a", "aggregate_reward_score": NaN}, {"id": "b", "aggregate_reward_score": 0.25}]"#)
        XCTAssertEqual(r[0].error, GraderError(.invalidOutput, "aggregate_reward_score is NaN, not a finite number"))
        XCTAssertEqual(r[1].score, 0.25)
    }

    func testEachIdExactlyOnce() {
        let r = check(#"[{"id": "a", "aggregate_reward_score": 1}, {"id": "a", "aggregate_reward_score": 1}, {"id": "zz", "aggregate_reward_score": 1}]"#)
        XCTAssertEqual(r[0].error?.message, "id \"a\" appears 2 times in the output")
        XCTAssertEqual(r[1].error?.type, .invalidOutput)
        XCTAssertTrue(r[1].error!.message.contains("id \"b\" is missing from the output; the output had unexpected ids \"zz\""), r[1].error!.message)
    }

    func testScoreTypeAndRange() {
        let r = check(#"[{"id": "a", "aggregate_reward_score": "0.5"}, {"id": "b", "aggregate_reward_score": 2}]"#, range: 0...1)
        XCTAssertTrue(r[0].error!.message.hasPrefix("aggregate_reward_score must be a number, got string"))
        XCTAssertEqual(r[1].error?.message, "aggregate_reward_score 2.0 is outside score_range [0.0, 1.0]")
        let m = check(#"[{"id": "a", "aggregate_reward_score": 1, "metrics_list": [{"name": "x", "value": Infinity}]}, {"id": "b"}]"#)
        XCTAssertTrue(m[0].error!.message.contains("metrics_list[0].value (x) must be a finite number"), m[0].error!.message)
        XCTAssertEqual(m[1].error?.message, "aggregate_reward_score is missing")
    }

    func testGarbageAndNonListsFailEverySampleWithAReason() {
        for (output, needle) in [("hello world", "not valid JSON"), (#"{"id": "a"}"#, "got object"), ("", "no output"),
                                 (String(repeating: "[", count: 5000), "nested deeper")] {
            let r = check(output)
            XCTAssertEqual(r.count, 2)
            for x in r {
                XCTAssertEqual(x.error?.type, .invalidOutput)
                XCTAssertTrue(x.error!.message.contains(needle), "\(x.error!.message) lacks \(needle)")
            }
        }
    }

    func testAbstentionAndHandlerErrors() {
        let r = check(#"[{"id": "a", "aggregate_reward_score": null}, {"id": "b", "error": {"type": "handler_error", "message": "boom"}}]"#)
        XCTAssertEqual(r[0].outcome, .abstained)
        XCTAssertEqual(r[1].error, GraderError(.handlerError, "boom"))
        // A grader can never claim an infrastructure error type for itself.
        let spoof = check(#"[{"id": "a", "error": {"type": "timeout", "message": "x"}}]"#, ids: ["a"])
        XCTAssertEqual(spoof[0].error?.type, .handlerError)
    }

    func testResultJSONShape() {
        XCTAssertEqual(SampleResult(id: "a", outcome: .scored(0.5), metrics: [Metric(name: "m", value: 1)]).json.jsonString,
                       #"{"id":"a","aggregate_reward_score":0.5,"metrics_list":[{"name":"m","value":1,"type":"Metric"}]}"#)
        XCTAssertEqual(SampleResult.failed("b", .timeout, "slow").json.jsonString,
                       #"{"id":"b","error":{"type":"timeout","message":"slow"}}"#)
    }
}
