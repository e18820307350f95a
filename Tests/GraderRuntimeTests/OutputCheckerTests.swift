import XCTest
@testable import GraderRuntime
import JSON

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

    /// The reward server writes output lists straight to bytes; they must be exactly what the tree writes.
    func testOutputListBytesMatchTheTree() {
        let results: [SampleResult] = [
            SampleResult(id: "a", outcome: .scored(1)),
            SampleResult(id: "b", outcome: .scored(0.1 + 0.2), metrics: [Metric(name: "acc", value: 1, type: "Reward"),
                                                                         Metric(name: "len\n\"q\"", value: -2.5e-7)]),
            SampleResult(id: "c", outcome: .abstained),
            SampleResult(id: "ü\u{1}", outcome: .scored(-0.0)),
            SampleResult(id: "d", outcome: .scored(1e300)),
            SampleResult(id: "e", outcome: .failed(GraderError(.handlerError, "ValueError: bad \"x\"\n  line 3\ttab\u{7f}")),
                         metrics: [Metric(name: "dropped", value: 1)]),
            SampleResult(id: "f", outcome: .scored(.infinity)),
            .failed("g", .memoryLimit, "the worker exceeded memory_mb 256"),
        ]
        for r in results { XCTAssertEqual(String(decoding: SampleResult.outputListJSON([r]), as: UTF8.self),
                                          JSONValue.array([r.json]).jsonString, r.id) }
        XCTAssertEqual(SampleResult.outputListJSON(results), JSONValue.array(results.map(\.json)).jsonBytes())
        XCTAssertEqual(SampleResult.outputListJSON([]), Array("[]".utf8))
    }
}

/// The allocation-free reader of common bootstrap responses agrees with the general path or declines.
final class FastResponseTests: XCTestCase {
    func testReadsTheCommonShapeAndDeclinesEverythingElse() {
        let ok = #"{"request_id": "r-1", "result": [{"id": "a", "aggregate_reward_score": 1.0}, {"id": "b", "aggregate_reward_score": null}, {"id": "c", "aggregate_reward_score": -2.5e-3}]}"#
        let r = FastResponse.parse(Array(ok.utf8), requestID: "r-1", ids: ["a", "b", "c"], scoreRange: nil)
        XCTAssertEqual(r?.map(\.outcome), [.scored(1), .abstained, .scored(-0.0025)])
        let declined = [
            #"{"request_id": "r-2", "result": [{"id": "a", "aggregate_reward_score": 1.0}]}"#,      // another request
            #"{"request_id": "r-1", "result": [{"id": "b", "aggregate_reward_score": 1.0}]}"#,      // wrong id
            #"{"request_id": "r-1", "result": [{"id": "a", "aggregate_reward_score": NaN}]}"#,      // not finite
            #"{"request_id": "r-1", "result": [{"id": "a", "aggregate_reward_score": 7}]}"#,        // out of range
            #"{"request_id": "r-1", "result": [{"id": "a", "aggregate_reward_score": 1, "metrics_list": []}]}"#,
            #"{"request_id": "r-1", "result": [{"id": "a\u0041", "aggregate_reward_score": 1}]}"#,  // escapes
            #"{"request_id": "r-1", "result": [{"id": "a", "aggregate_reward_score": 1}]} x"#,      // trailing data
            #"{"request_id": "r-1", "result": [{"id": "ab", "aggregate_reward_score": 1}]}"#,       // longer id
        ]
        for text in declined {
            XCTAssertNil(FastResponse.parse(Array(text.utf8), requestID: "r-1", ids: ["a"], scoreRange: 0...1), text)
        }
    }
}
