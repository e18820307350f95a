import Foundation
import XCTest

/// Every bundled template passes its own `rft grader audit` (in the sandbox, from its cases.jsonl):
/// no hack pays, the hacks that apply were actually scored, and only the hacks its `audit.json`
/// documents are reported as known limitations. All five together take about 20 s in a debug build.
final class TemplateAuditTests: XCTestCase {
    private var templates: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("templates")
    }

    /// Audits `name` with --json and checks the report; returns the verdict per hack.
    @discardableResult
    private func assertAuditPasses(_ name: String, known: [String] = [], mustHold: [String],
                                   file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        // (JUDGE_BASE_URL in the caller's environment would replace the judge template's fake judge.)
        let r = try RFTBinary.run(["grader", "audit", templates.appendingPathComponent(name).path, "--json"])
        XCTAssertEqual(r.status, 0, "\(name): \(r.stdout)\n\(r.stderr)", file: file, line: line)
        guard let report = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let hacks = report["hacks"] as? [[String: Any]] else {
            XCTFail("\(name): no JSON report:\n\(r.stdout)\n\(r.stderr)", file: file, line: line)
            return [:]
        }
        var verdicts: [String: String] = [:]
        for h in hacks { verdicts[h["name"] as? String ?? "?"] = h["verdict"] as? String }
        XCTAssertEqual(report["paying"] as? [String], [], "\(name): \(verdicts)", file: file, line: line)
        XCTAssertEqual(Set(report["known"] as? [String] ?? []), Set(known), "\(name): \(verdicts)", file: file, line: line)
        for hack in mustHold {
            XCTAssertEqual(verdicts[hack], "holds", "\(name): \(hack) was not scored: \(verdicts)", file: file, line: line)
        }
        XCTAssertFalse(verdicts.values.contains("error"), "\(name): \(verdicts)", file: file, line: line)
        return verdicts
    }

    private static let degenerate = ["empty", "whitespace", "very-long", "repeated-token", "prompt-echo",
                                     "markup-injection", "control-characters", "grader-instructions"]

    func testGenericTemplate() throws {
        try assertAuditPasses("generic", mustHold: Self.degenerate + ["reference-pasted", "many-candidates"])
    }

    func testFormatTemplateDocumentsThatItScoresFormNotContent() throws {
        try assertAuditPasses("format", known: ["empty-skeleton", "filler-content"], mustHold: Self.degenerate)
    }

    func testMathTemplate() throws {
        try assertAuditPasses("math", mustHold: Self.degenerate + ["reference-pasted", "many-candidates", "boxed-spray",
                                                                   "answer-spray", "first-last-disagree", "format-tricks"])
    }

    /// Runs against the bundled fake judge, which test-server.json describes and the audit starts.
    func testJudgeTemplate() throws {
        if let url = ProcessInfo.processInfo.environment["JUDGE_BASE_URL"], !url.isEmpty {
            throw XCTSkip("JUDGE_BASE_URL is set: the audit would run against that judge, not the bundled fake one")
        }
        try assertAuditPasses("judge", mustHold: Self.degenerate + ["reference-pasted", "many-candidates",
                                                                    "judge-injection", "perfect-score-claim", "rubric-echo"])
    }

    func testCodeExecutionTemplate() throws {
        try assertAuditPasses("code-execution", mustHold: [
            "eq-always-true", "exit-zero", "os-exit-zero", "forged-result", "read-grader-memory", "read-secrets",
            "leftover-files", "lingering-daemon", "patched-builtins", "state-persists",
        ])
    }
}
