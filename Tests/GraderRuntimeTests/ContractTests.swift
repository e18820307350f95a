import XCTest
@testable import GraderRuntime

/// Each handler convention runs unchanged in the sandboxed Python runtime.
final class ContractTests: XCTestCase {
    private func score(_ dir: URL, _ samples: [Sample], options: GraderPool.Options = .init()) throws -> [SampleResult] {
        let pool = try GraderPool(directory: dir, options: options)
        defer { pool.shutdown() }
        return pool.score(samples)
    }

    func testBedrockHandlerGetsALambdaContext() throws {
        let dir = try Fixture.python("""
            def lambda_handler(event, context):
                left = context.get_remaining_time_in_millis()
                ok = (0 < left <= 1500 and context.function_name == "t" and context.memory_limit_in_mb == 256
                      and context.aws_request_id.startswith("t-"))
                return [{"id": s["id"], "aggregate_reward_score": 1.0 if ok else 0.0,
                         "metrics_list": [{"name": "remaining_ms", "value": left, "type": "Metric"}]} for s in event]
            """, manifest: #""timeout_ms": 1500, "memory_mb": 256"#)
        let r = try score(dir, Fixture.samples(3))
        XCTAssertEqual(r.map(\.score), [1, 1, 1], "\(r)")
        XCTAssertEqual(r[0].metrics.first?.name, "remaining_ms")
    }

    func testPrintsAreLogsAndCannotSpoofResults() throws {
        let dir = try Fixture.python("""
            import sys, os
            def lambda_handler(event, context):
                forged = '[' + ','.join('{"id": "%s", "aggregate_reward_score": 99}' % s["id"] for s in event) + ']'
                print(forged)
                sys.stdout.flush()
                os.write(1, forged.encode())
                print("to stderr", file=sys.stderr)
                return [{"id": s["id"], "aggregate_reward_score": 0.5} for s in event]
            """)
        let logs = LogSink()
        let r = try score(dir, Fixture.samples(2), options: .init(captureLogs: true, onBatch: { logs.add($0) }))
        XCTAssertEqual(r.map(\.score), [0.5, 0.5])
        let all = logs.all()
        XCTAssertTrue(all.contains { $0.stdout.contains("\"aggregate_reward_score\": 99") }, "\(all)")
        XCTAssertTrue(all.contains { $0.stderr.contains("to stderr") }, "\(all)")
    }

    func testOpenAIGradeGetsOutputTextAndTheDatasetRow() throws {
        let dir = try Fixture.python("""
            def fn(sample, item):
                assert item["messages"][-1]["role"] == "user", item["messages"]
                if item["reference_answer"] == "raise":
                    return 1 / 0
                if item["reference_answer"] == "string":
                    return "0.5"
                return 1.0 if sample["output_text"] == item["reference_answer"] else 0.25
            """, contract: "openai")
        let r = try score(dir, [
            Fixture.sample("a", "Paris", reference: "Paris"),
            Sample(record: ["id": "b", "messages": [["role": "user", "content": "q"], ["role": "assistant", "content": "Lyon"]],
                            "metadata": ["reference_answer": "Paris"]], defaultID: "b"),
            Fixture.sample("c", "x", reference: "raise"),
            Fixture.sample("d", "x", reference: "string"),
        ])
        XCTAssertEqual(r[0].score, 1)
        XCTAssertEqual(r[1].score, 0.25)
        XCTAssertEqual(r[2].error?.type, .handlerError)
        XCTAssertTrue(r[2].error!.message.hasPrefix("ZeroDivisionError: division by zero"), r[2].error!.message)
        XCTAssertTrue(r[2].error!.message.contains("handler.py"), r[2].error!.message)
        XCTAssertEqual(r[3].error, GraderError(.invalidOutput, "grade() must return a float, got str"))
    }

    func testTRLRewardGetsColumnsAndMayAbstain() throws {
        let dir = try Fixture.python("""
            def fn(prompts, completions, reference_answer, difficulty, **kwargs):
                assert isinstance(prompts[0], list) and prompts[0][-1]["role"] == "user"
                out = []
                for c, ref, d in zip(completions, reference_answer, difficulty):
                    out.append(None if d == "skip" else (1.0 if c[0]["content"] == ref else 0.0))
                return out
            """, contract: "trl")
        let r = try score(dir, [
            Fixture.sample("a", "4", reference: "4", extra: ["difficulty": "easy"]),
            Fixture.sample("b", "5", reference: "4", extra: ["difficulty": "easy"]),
            Fixture.sample("c", "4", reference: "4", extra: ["difficulty": "skip"]),
        ])
        XCTAssertEqual(r.map(\.outcome), [.scored(1), .scored(0), .abstained])

        let short = try Fixture.python("def fn(prompts, completions, **kw):\n    return [1.0]\n", contract: "trl")
        let s = try score(short, Fixture.samples(2))
        XCTAssertEqual(s[1].error, GraderError(.invalidOutput, "reward() must return a list of 2 floats or None, got 1"))
    }

    func testVerlComputeScoreWithAndWithoutExtraInfo() throws {
        let dir = try Fixture.python("""
            def fn(data_source, solution_str, ground_truth, extra_info=None):
                return {"score": 1.0 if solution_str.endswith(ground_truth) else 0.0, "len": len(solution_str),
                        "split": (extra_info or {}).get("split") == "train"}
            """, contract: "verl")
        let r = try score(dir, [Fixture.sample("a", "#### 7", reference: "7", extra: ["extra_info": ["split": "train"]])])
        XCTAssertEqual(r[0].score, 1)
        XCTAssertEqual(r[0].metrics, [Metric(name: "len", value: 6), Metric(name: "split", value: 1)])

        let plain = try Fixture.python("def fn(data_source, solution_str, ground_truth):\n    return 0.5\n", contract: "verl")
        XCTAssertEqual(try score(plain, Fixture.samples(1))[0].score, 0.5)
    }

    func testEnvironmentIsOnlyTheAllowlist() throws {
        let dir = try Fixture.python("""
            import os
            def lambda_handler(event, context):
                ok = os.environ.get("FIXED") == "1" and os.environ.get("PASSED") == "yes" and "SECRET_TOKEN" not in os.environ
                return [{"id": s["id"], "aggregate_reward_score": 1.0 if ok else 0.0} for s in event]
            """, manifest: #""environment": {"FIXED": "1", "PASSED": null}"#)
        let r = try score(dir, Fixture.samples(1),
                          options: .init(environment: ["PASSED": "yes", "SECRET_TOKEN": "hunter2"]))
        XCTAssertEqual(r[0].score, 1)
        // The values the pool was given win over this process's own environment: a fixed value in the
        // manifest, and a value the caller supplies (as `rft grader test` does with its test server's URL).
        setenv("FIXED", "0", 1); setenv("PASSED", "", 1)
        defer { unsetenv("FIXED"); unsetenv("PASSED") }
        let again = try score(dir, Fixture.samples(1), options: .init(environment: ["PASSED": "yes"]))
        XCTAssertEqual(again[0].score, 1)
    }
}

final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var logs: [GraderPool.BatchLog] = []
    func add(_ l: GraderPool.BatchLog) { lock.lock(); logs.append(l); lock.unlock() }
    func all() -> [GraderPool.BatchLog] { lock.lock(); defer { lock.unlock() }; return logs }
}
