import XCTest
@testable import GraderRuntime

/// A batch contract (Bedrock's lambda_handler, TRL's reward) fails as a whole when one sample makes the
/// handler raise or hang: the pool splits the batch until that sample is alone, so its neighbours get
/// scores and the error names the sample, the exception and the grader's own file:line.
final class IsolationOfCulpritTests: XCTestCase {
    func testBedrockHandlerExceptionOnOneSampleIsIsolated() throws {
        let p = try GraderPool(directory: try Fixture.python("""
            def score(s):
                if s["id"] == "s5":
                    return 1 / 0
                return 1.0

            def lambda_handler(event, context):
                return [{"id": s["id"], "aggregate_reward_score": score(s)} for s in event]
            """, manifest: #""batch_size": 8, "retries": 0, "concurrency": 2"#))
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(8))
        for (i, x) in r.enumerated() where i != 5 { XCTAssertEqual(x.score, 1, "\(x.id): \(x)") }
        let e = try XCTUnwrap(r[5].error)
        XCTAssertEqual(e.type, .handlerError)
        XCTAssertTrue(e.message.hasPrefix("sample \"s5\" (isolated from a batch of 8): ZeroDivisionError: division by zero (at handler.py:3)"),
                      e.message)
        XCTAssertFalse(e.message.contains("<string>"), "the bootstrap's own frames are not shown: \(e.message)")
    }

    func testTRLRewardExceptionOnOneSampleIsIsolated() throws {
        let p = try GraderPool(directory: try Fixture.python("""
            def fn(prompts, completions, **kwargs):
                out = []
                for c in completions:
                    text = c[0]["content"]
                    if text == "answer 2":
                        raise KeyError("no such key")
                    out.append(1.0)
                return out
            """, manifest: #""batch_size": 4, "retries": 0, "concurrency": 1"#, contract: "trl"))
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(4))
        XCTAssertEqual(r.map(\.score), [1, 1, nil, 1])
        XCTAssertTrue(r[2].error!.message.hasPrefix("sample \"s2\" (isolated from a batch of 4): KeyError: 'no such key' (at handler.py:6)"),
                      r[2].error!.message)
    }

    func testTimeoutNamesTheSampleThatCausedIt() throws {
        let p = try GraderPool(directory: try Fixture.python("""
            import time
            def lambda_handler(event, context):
                if any(s["id"] == "s1" for s in event):
                    time.sleep(30)
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, manifest: #""batch_size": 4, "retries": 0, "concurrency": 2, "timeout_ms": 400"#))
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(4))
        XCTAssertEqual(r.map(\.score), [1, nil, 1, 1])
        XCTAssertEqual(r[1].error?.type, .timeout)
        XCTAssertTrue(r[1].error!.message.hasPrefix("sample \"s1\" (isolated from a batch of 4) alone exceeded timeout_ms 400"),
                      r[1].error!.message)
    }

    func testAGraderFailingOnEverySampleIsNotBisectedToTheEnd() throws {
        // Every part fails: not one sample's fault, so no further splitting (not one invocation per sample).
        let p = try GraderPool(directory: try Fixture.python("""
            def lambda_handler(event, context):
                raise ConnectionRefusedError("judge endpoint down")
            """, manifest: #""batch_size": 16, "retries": 0, "concurrency": 2"#))
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(16))
        XCTAssertTrue(r.allSatisfy { $0.error?.type == .handlerError })
        XCTAssertTrue(r[0].error!.message.hasPrefix("ConnectionRefusedError: judge endpoint down (at handler.py:2)"), r[0].error!.message)
        XCTAssertEqual(p.currentStats.batches, 5, "the batch and its four parts")
    }

    func testWrongHandlerNameSuggestsTheRightOne() throws {
        let dir = try Fixture.grader(#"{"name": "t", "runtime": "python", "handler": "handler.lambda_handlr"}"#,
                                     files: ["handler.py": "def lambda_handler(event, context):\n    return []\n"])
        let p = try GraderPool(directory: dir, options: .init(prewarm: false))
        defer { p.shutdown() }
        let e = try XCTUnwrap(p.validate())
        XCTAssertEqual(e.type, .initError)
        XCTAssertTrue(e.message.contains("has no attribute 'lambda_handlr' (did you mean 'handler.lambda_handler'?)"), e.message)
        XCTAssertFalse(e.message.contains("<string>") || e.message.contains("<frozen"), e.message)
        // A typo in the module name is caught by the manifest check, with a suggestion too.
        let moduleTypo = try Fixture.grader(#"{"name": "t", "runtime": "python", "handler": "hanlder.lambda_handler"}"#,
                                            files: ["handler.py": "def lambda_handler(event, context):\n    return []\n"])
        XCTAssertThrowsError(try GraderManifest.load(directory: moduleTypo)) {
            XCTAssertTrue("\($0)".contains("(did you mean 'handler.lambda_handler'?)"), "\($0)")
        }
    }

    func testUnreadableJSONLLinesAreNamedWithTheirColumnAndTheRestKept() throws {
        let text = "{\"id\": \"a\"}\n{\"id\": \"b\", oops}\n[1]\n{\"id\": \"a\"}\n{\"id\": \"c\"}\n"
        let r = try Sample.readLeniently(Array(text.utf8), source: "in.jsonl")
        XCTAssertEqual(r.samples.map(\.id), ["a", "c"])
        XCTAssertEqual(r.problems.map(\.message), [
            "in.jsonl:2:13: expected a string key in object",
            "in.jsonl:3:1: sample must be an object, got array",
            "in.jsonl:4:1: duplicate sample id \"a\" (first at in.jsonl:1:1)",
        ])
        XCTAssertThrowsError(try Sample.read(Array(text.utf8), source: "in.jsonl")) {
            XCTAssertEqual("\($0)".split(separator: "\n").count, 3, "every bad line at once: \($0)")
        }
    }
}
