import Foundation
import XCTest

/// `rft grader …` as a user runs it, on the example graders in graders/.
final class GraderCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func grader(_ name: String) -> String { root.appendingPathComponent("graders/\(name)").path }

    override class func setUp() {
        // The compiled example is built by its Makefile with cc, as a user would.
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", grader("compiled-c")]
        try? make.run()
        make.waitUntilExit()
    }

    private func tempDir(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-cli-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        return dir
    }

    func testEveryExampleGraderPassesItsCases() throws {
        for name in ["bedrock-lambda", "openai-grade", "trl-reward", "verl-score", "shell-script", "compiled-c", "trivial"] {
            let r = try RFTBinary.run(["grader", "test", Self.grader(name)])
            XCTAssertEqual(r.status, 0, "\(name):\n\(r.stdout)\n\(r.stderr)")
            XCTAssertTrue(r.stdout.contains("cases passed"), r.stdout)
            XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
        }
    }

    /// A Bedrock reward Lambda as written for AWS, unchanged, next to a three-line manifest.
    func testUnchangedBedrockLambdaWithAThreeLineManifest() throws {
        let manifest = try String(contentsOfFile: Self.grader("bedrock-lambda") + "/grader.json", encoding: .utf8)
        XCTAssertEqual(manifest.split(separator: "\n").count, 3)
        let r = try RFTBinary.run(["grader", "test", Self.grader("bedrock-lambda")])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    func testFailingCaseExitsOneWithATable() throws {
        let dir = try tempDir(["cases.jsonl": #"{"id": "a", "messages": [{"role": "assistant", "content": "hi"}], "expected_score": 0.5}"# + "\n"])
        let cases = dir.appendingPathComponent("cases.jsonl").path
        let r = try RFTBinary.run(["grader", "test", Self.grader("trivial"), "--cases", cases])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("a     0.5       1.0  FAIL"), r.stdout)
        XCTAssertTrue(r.stdout.contains("trivial: 0/1 cases passed"), r.stdout)
    }

    func testInvokePrintsOneEntryPerSampleAndLogs() throws {
        let dir = try tempDir([
            "grader.json": #"{"name": "noisy", "runtime": "python", "handler": "h.lambda_handler"}"#,
            "h.py": """
                import sys
                def lambda_handler(event, context):
                    print("scoring", len(event), file=sys.stderr)
                    return [{"id": s["id"], "aggregate_reward_score": 0.5} for s in event if s["id"] != "drop"]
                """,
            "in.jsonl": #"{"id": "keep", "messages": []}"# + "\n" + #"{"id": "drop", "messages": []}"# + "\n",
        ])
        let input = dir.appendingPathComponent("in.jsonl").path
        let r = try RFTBinary.run(["grader", "invoke", dir.path, "--input", input, "--logs"])
        XCTAssertEqual(r.status, 1, "a sample failed grading: \(r.stderr)")
        XCTAssertTrue(r.stdout.contains(#"{"id":"keep","aggregate_reward_score":0.5}"#), r.stdout)
        XCTAssertTrue(r.stdout.contains(#"{"id":"drop","error":{"type":"invalid_output","message":"id \"drop\" is missing from the output"}}"#), r.stdout)
        XCTAssertTrue(r.stderr.contains("scoring 2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("error: 1 of 2 samples failed grading: invalid_output ×1\n"
                                        + "  invalid_output (first: sample \"drop\"): id \"drop\" is missing from the output"), r.stderr)
        let allowed = try RFTBinary.run(["grader", "invoke", dir.path, "--input", input, "--allow-errors"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("1 of 2 samples failed grading"), "the summary is still printed: \(allowed.stderr)")
    }

    func testInvokeScoresTheReadableLinesAndNamesEveryBadOne() throws {
        let dir = try tempDir(["in.jsonl": """
            {"id": "a", "messages": [{"role": "assistant", "content": "x"}]}
            {"id": "b", "messages": [}
            {"id": "c", "messages": [{"role": "assistant", "content": "y"}]}
            not json

            """])
        let input = dir.appendingPathComponent("in.jsonl").path
        let r = try RFTBinary.run(["grader", "invoke", Self.grader("trivial"), "--input", input])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains(#""id":"a""#) && r.stdout.contains(#""id":"c""#), r.stdout)
        XCTAssertFalse(r.stdout.contains(#""id":"b""#), r.stdout)
        XCTAssertTrue(r.stderr.contains("error: \(input):2:26: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("error: \(input):4:1: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("2 lines of \(input) could not be read and were skipped"), r.stderr)
        let strict = try RFTBinary.run(["grader", "invoke", Self.grader("trivial"), "--input", input, "--strict"])
        XCTAssertEqual(strict.status, 2)
        XCTAssertEqual(strict.stdout, "", "nothing is scored")
        XCTAssertTrue(strict.stderr.contains("2 bad lines in \(input); nothing was scored"), strict.stderr)
    }

    func testATestServerNeedsTheNetworkGrant() throws {
        let dir = try tempDir(["grader.json": #"{"name": "x", "handler": "h.lambda_handler"}"#,
                               "h.py": "def lambda_handler(e, c):\n    return []\n",
                               "test-server.json": #"{"command": ["/usr/bin/python3", "-c", "print('http://127.0.0.1:1')"]}"#,
                               "cases.jsonl": #"{"id": "c", "messages": [], "expected_score": 1}"# + "\n"])
        let r = try RFTBinary.run(["grader", "test", dir.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("test-server.json: a test server needs \"network\": true in grader.json"), r.stderr)
    }

    func testGraderTestShowsAnInitErrorOnceAndLogs() throws {
        let broken = try tempDir(["grader.json": #"{"name": "x", "handler": "h.lambda_handler"}"#,
                                  "h.py": "import no_such_module\ndef lambda_handler(e, c):\n    return []\n",
                                  "cases.jsonl": (0..<4).map { #"{"id": "c\#($0)", "messages": [], "expected_score": 1}"# }.joined(separator: "\n")])
        let r = try RFTBinary.run(["grader", "test", broken.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual((r.stdout + r.stderr).components(separatedBy: "No module named 'no_such_module'").count - 1, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("error: x could not start (init_error):\nModuleNotFoundError: No module named 'no_such_module' (at h.py:1)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("FAIL  (init_error, above)"), r.stdout)

        let noisy = try tempDir(["grader.json": #"{"name": "n", "handler": "h.lambda_handler"}"#,
                                 "h.py": "def lambda_handler(e, c):\n    print('looking at', len(e))\n    return [{'id': s['id'], 'aggregate_reward_score': 1} for s in e]\n",
                                 "cases.jsonl": #"{"id": "c", "messages": [], "expected_score": 1}"# + "\n"])
        let logs = try RFTBinary.run(["grader", "test", noisy.path, "--logs"])
        XCTAssertEqual(logs.status, 0, logs.stdout + logs.stderr)
        XCTAssertTrue(logs.stderr.contains("[stdout]\nlooking at 1"), logs.stderr)
    }

    func testValidateReportsStructuredErrors() throws {
        let good = try RFTBinary.run(["grader", "validate", Self.grader("verl-score"), "--json"])
        XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
        XCTAssertEqual(good.stdout.trimmingCharacters(in: .whitespacesAndNewlines), #"{"valid":true,"name":"verl-score","errors":[]}"#)
        let goodText = try RFTBinary.run(["grader", "validate", Self.grader("verl-score")])
        XCTAssertEqual(goodText.stdout, "verl-score: valid (manifest checked, handler imported in the sandbox)\n")

        let badManifest = try tempDir(["grader.json": #"{"name": "x", "handler": "h.f", "concurrency": 0, "timout_ms": 5}"#, "h.py": "def f(e, c): return []\n"])
        let m = try RFTBinary.run(["grader", "validate", badManifest.path, "--json"])
        XCTAssertEqual(m.status, 1)
        XCTAssertTrue(m.stdout.contains(#""type":"manifest""#) && m.stdout.contains(#""field":"concurrency""#)
                      && m.stdout.contains("must be 1...64, got 0"), m.stdout)
        let mText = try RFTBinary.run(["grader", "validate", badManifest.path])
        XCTAssertEqual(mText.status, 1)
        XCTAssertTrue(mText.stdout.contains("INVALID, 2 problems:"), mText.stdout)
        XCTAssertTrue(mText.stdout.contains("grader.json: timout_ms: unknown field (did you mean 'timeout_ms'?)"), mText.stdout)

        let badImport = try tempDir(["grader.json": #"{"name": "x", "handler": "h.f"}"#, "h.py": "def f(e, c)\n    return []\n"])
        let i = try RFTBinary.run(["grader", "validate", badImport.path, "--json"])
        XCTAssertEqual(i.status, 1)
        XCTAssertTrue(i.stdout.contains(#""type":"init_error""#) && i.stdout.contains("SyntaxError"), i.stdout)
        // Readable by default: no escaped JSON, the grader's own line, none of the bootstrap's frames.
        let text = try RFTBinary.run(["grader", "validate", badImport.path])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stdout.contains("x: INVALID, 1 problem:\n  init_error: SyntaxError: "), text.stdout)
        XCTAssertTrue(text.stdout.contains("(at h.py:1)"), text.stdout)
        XCTAssertFalse(text.stdout.contains("<string>") || text.stdout.contains("<frozen") || text.stdout.contains("\\n"), text.stdout)
    }

    func testManifestErrorsOnOtherCommandsNameTheField() throws {
        let dir = try tempDir(["grader.json": #"{"name": "x", "handler": "h.f", "timeout_ms": "3s"}"#, "h.py": ""])
        let r = try RFTBinary.run(["grader", "invoke", dir.path, "--input", "-"], stdin: "[]")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("grader.json: timeout_ms: must be an integer, got \"3s\""), r.stderr)
    }

    func testBenchJSONHasExactlyTheDocumentedKeys() throws {
        let r = try RFTBinary.run(["grader", "bench", Self.grader("trivial"), "--samples", "300", "--cold-starts", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(Set(obj?.keys.map { $0 } ?? []),
                       ["samples_per_s", "inprocess_samples_per_s", "ratio", "p50_ms", "p99_ms", "cold_start_ms", "conditions"])
        for (k, v) in obj ?? [:] where k != "conditions" { XCTAssertGreaterThan((v as? Double) ?? 0, 0, k) }
        let conditions = obj?["conditions"] as? [String: Any]
        XCTAssertEqual(conditions?["build"] as? String, "debug")
        XCTAssertEqual((conditions?["load_average"] as? [Double])?.count, 3)
    }
}
