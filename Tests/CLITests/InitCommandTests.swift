import XCTest
import Foundation

/// `rft init` as a new user runs it: list, create, then test the new grader.
final class InitCommandTests: XCTestCase {
    private var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("rft-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    func testListDescribesEveryTemplate() throws {
        let r = try RFTBinary.run(["init", "--list"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["math", "code-execution", "judge", "format", "generic"] {
            XCTAssertTrue(r.stdout.contains("  \(name) "), "missing \(name) in:\n\(r.stdout)")
        }
    }

    func testInitMathThenGraderTestPasses() throws {
        let dir = tmp.appendingPathComponent("my-grader").path
        let r = try RFTBinary.run(["init", "math", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        for file in ["README.md", "grader.json", "config.json", "cases.jsonl", "math_grader.py"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
        }
        let manifest = try String(contentsOfFile: dir + "/grader.json", encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"name\": \"my-grader\""), manifest)
        let test = try RFTBinary.run(["grader", "test", dir])
        XCTAssertEqual(test.status, 0, test.stdout + test.stderr)
        XCTAssertTrue(test.stdout.contains("cases passed"), test.stdout)
        // It ends by suggesting an audit, and the new grader passes it.
        XCTAssertTrue(r.stdout.hasSuffix("rft grader audit \(dir)       # which cheap reward hacks it pays for, before you train on it\n"),
                      r.stdout)
        let audit = try RFTBinary.run(["grader", "audit", dir])
        XCTAssertEqual(audit.status, 0, audit.stdout + audit.stderr)
        XCTAssertTrue(audit.stdout.contains("my-grader: 0 of "), audit.stdout)
    }

    /// Straight after `rft init judge`, `rft grader test` passes: the cases run against the bundled fake
    /// judge, started (in the sandbox) for them and stopped after, and the output says so.
    func testInitJudgeThenGraderTestPassesAgainstTheBundledFakeJudge() throws {
        unsetenv("JUDGE_BASE_URL"); unsetenv("JUDGE_MODEL")
        let dir = tmp.appendingPathComponent("my-judge").path
        XCTAssertEqual(try RFTBinary.run(["init", "judge", dir]).status, 0)
        let test = try RFTBinary.run(["grader", "test", dir])
        XCTAssertEqual(test.status, 0, test.stdout + test.stderr)
        XCTAssertTrue(test.stdout.hasPrefix("cases run against the bundled fake judge (tools/fake_judge_server.py) at http://127.0.0.1:"),
                      test.stdout)
        XCTAssertTrue(test.stdout.contains("my-judge: 41/41 cases passed"), test.stdout)
        // Nothing it started outlives it.
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let leftovers = procs.filter { pid in
            guard Int(pid) != nil, let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmd, as: UTF8.self).contains(dir)
        }
        XCTAssertEqual(leftovers, [], "fake judge still running")
    }

    func testRefusesANonEmptyDirectoryAndUnknownTemplates() throws {
        FileManager.default.createFile(atPath: tmp.appendingPathComponent("keep.txt").path, contents: Data("x".utf8))
        let r = try RFTBinary.run(["init", "generic", tmp.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is not empty"), r.stderr)
        let forced = try RFTBinary.run(["init", "--force", "generic", tmp.path])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("keep.txt").path))

        let unknown = try RFTBinary.run(["init", "maths", tmp.appendingPathComponent("x").path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown template 'maths'"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("math"), unknown.stderr)
    }

    func testTemplatesDirectoryOverride() throws {
        setenv("RFT_TEMPLATES", tmp.path, 1)
        defer { unsetenv("RFT_TEMPLATES") }
        let r = try RFTBinary.run(["init", "--list"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("RFT_TEMPLATES=\(tmp.path) is not a templates directory"), r.stderr)
    }
}
