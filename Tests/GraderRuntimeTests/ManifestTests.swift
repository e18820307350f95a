import XCTest
@testable import GraderRuntime

final class ManifestTests: XCTestCase {
    private func decode(_ text: String) throws -> GraderManifest {
        try GraderManifest.decode(Array(text.utf8), file: "grader.json")
    }

    private func errors(_ text: String) -> [String] {
        do { _ = try decode(text); return [] } catch let e as ManifestErrors { return e.errors.map(\.description) } catch { return ["\(error)"] }
    }

    func testThreeLineManifestGetsLambdaDefaults() throws {
        let m = try decode(#"{"name": "g", "runtime": "python", "handler": "lambda_function.lambda_handler"}"#)
        XCTAssertEqual(m.contract, .bedrock)
        XCTAssertEqual(m.timeoutMs, 3000)
        XCTAssertEqual(m.concurrency, 2)
        XCTAssertFalse(m.network)
        XCTAssertEqual(m.onError, .zero)
        XCTAssertNil(m.scoreRange)
    }

    func testErrorsNameTheFieldPath() {
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "concurrency": 0}"#),
                       ["grader.json: concurrency: must be 1...64, got 0"])
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "score_range": [0, "1"]}"#),
                       ["grader.json: score_range[1]: must be a number, got string"])
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "timout_ms": 5}"#),
                       ["grader.json: timout_ms: unknown field (did you mean 'timeout_ms'?)"])
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "environment": ["OK", 3, "1BAD"]}"#),
                       ["grader.json: environment[1]: must be a string, got number",
                        "grader.json: environment[2]: \"1BAD\" is not a valid environment variable name"])
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "contract": "lambda"}"#),
                       [#"grader.json: contract: must be one of "bedrock", "openai", "trl", "verl", got "lambda""#])
        XCTAssertEqual(errors(#"{"name": "g", "handler": "lambda_handler"}"#),
                       [#"grader.json: handler: must be "module.function", got "lambda_handler""#])
    }

    func testEveryProblemIsReportedAtOnce() {
        let e = errors(#"{"runtime": "exec", "retries": -1, "on_error": "ignore", "score_range": [1, 0]}"#)
        XCTAssertTrue(e.contains("grader.json: name: is required"), "\(e)")
        XCTAssertTrue(e.contains("grader.json: retries: must be 0...5, got -1"), "\(e)")
        XCTAssertTrue(e.contains { $0.hasPrefix("grader.json: on_error: must be one of") }, "\(e)")
        XCTAssertTrue(e.contains("grader.json: score_range: low 1.0 is above high 0.0"), "\(e)")
        XCTAssertTrue(e.contains { $0.hasPrefix("grader.json: command: is required") }, "\(e)")
    }

    func testCPUBandwidthField() throws {
        XCTAssertNil(try decode(#"{"name": "g", "handler": "m.f"}"#).cpuMsPerSec, "unlimited by default")
        let m = try decode(#"{"name": "g", "handler": "m.f", "cpu_ms_per_sec": 500}"#)
        XCTAssertEqual(m.cpuMsPerSec, 500)
        let p = sandboxPolicy(for: m, directory: URL(fileURLWithPath: "/tmp"), warm: true, passthrough: [:])
        XCTAssertEqual(p.cpuMsPerSec, 500, "the manifest's limit reaches the sandbox policy")
        let max = 1000 * ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "cpu_ms_per_sec": 0}"#),
                       ["grader.json: cpu_ms_per_sec: must be 1...\(max), got 0"])
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "cpu_ms_per_sec": "half"}"#),
                       [#"grader.json: cpu_ms_per_sec: must be an integer, got "half""#])
    }

    func testDegradedModeField() throws {
        XCTAssertFalse(try decode(#"{"name": "g", "handler": "m.f"}"#).allowDegraded, "off by default")
        let m = try decode(#"{"name": "g", "handler": "m.f", "allow_degraded": true}"#)
        XCTAssertTrue(m.allowDegraded)
        let p = sandboxPolicy(for: m, directory: URL(fileURLWithPath: "/tmp"), warm: true, passthrough: [:])
        XCTAssertTrue(p.allowDegraded, "the manifest's opt-in reaches the sandbox policy")
        XCTAssertEqual(errors(#"{"name": "g", "handler": "m.f", "allow_degraded": "yes"}"#),
                       [#"grader.json: allow_degraded: must be true or false, got string"#])
    }

    func testInvalidJSONNamesTheLine() {
        XCTAssertEqual(errors("{\"name\": \"g\",\n \"handler\": }").first?.hasPrefix("grader.json: invalid JSON at line 2"), true)
    }

    func testEnvironmentAllowlistForms() throws {
        let a = try decode(#"{"name": "g", "handler": "m.f", "environment": ["PASS", "FIXED=1"]}"#)
        XCTAssertEqual(a.environment, ["PASS": String?.none, "FIXED": "1"])
        let b = try decode(#"{"name": "g", "handler": "m.f", "environment": {"PASS": null, "FIXED": "1"}}"#)
        XCTAssertEqual(b.environment, a.environment)
    }

    func testLoadChecksFilesInTheDirectory() throws {
        let dir = try Fixture.grader(#"{"name": "g", "handler": "missing.handler"}"#)
        XCTAssertThrowsError(try GraderManifest.load(directory: dir)) {
            XCTAssertTrue("\($0)".contains("handler: module file missing.py not found"), "\($0)")
        }
        let exec = try Fixture.grader(#"{"name": "g", "runtime": "exec", "command": "./nope --flag"}"#)
        XCTAssertThrowsError(try GraderManifest.load(directory: exec)) {
            XCTAssertTrue("\($0)".contains("command[0]: ./nope not found"), "\($0)")
        }
        XCTAssertThrowsError(try GraderManifest.load(directory: URL(fileURLWithPath: "/nonexistent-grader"))) {
            XCTAssertTrue("\($0)".contains("grader directory does not exist"), "\($0)")
        }
    }
}
