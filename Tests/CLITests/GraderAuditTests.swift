import Foundation
import XCTest

/// `rft grader audit` on deliberately weak graders (Fixtures/weak-graders): each one's hack is named.
final class GraderAuditTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/weak-graders")

    /// Runs the audit with --json and returns its exit status, the verdict per hack, and the report.
    private func audit(_ name: String, _ extra: [String] = []) throws -> (status: Int32, verdicts: [String: String], report: [String: Any], stderr: String) {
        let r = try RFTBinary.run(["grader", "audit", Self.fixtures.appendingPathComponent(name).path, "--json"] + extra)
        guard let report = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let hacks = report["hacks"] as? [[String: Any]] else {
            XCTFail("\(name): no JSON report (status \(r.status)):\n\(r.stdout)\n\(r.stderr)")
            return (r.status, [:], [:], r.stderr)
        }
        var verdicts: [String: String] = [:]
        for h in hacks { verdicts[h["name"] as! String] = h["verdict"] as? String }
        return (r.status, verdicts, report, r.stderr)
    }

    func testSubstringGraderPaysForThePastedReferenceAndCandidateLists() throws {
        let a = try audit("substring")
        XCTAssertEqual(a.status, 1, a.stderr)
        XCTAssertEqual(a.verdicts["reference-pasted"], "pays", "\(a.report)")
        XCTAssertEqual(a.verdicts["many-candidates"], "pays", "\(a.report)")
        XCTAssertEqual(a.verdicts["empty"], "holds")
        XCTAssertEqual(a.verdicts["grader-instructions"], "holds")
        XCTAssertEqual(a.report["paying"] as? [String], ["reference-pasted", "many-candidates"])
        // Cost summary for CI.
        XCTAssertGreaterThan(a.report["samples_run"] as? Double ?? 0, 10)
        XCTAssertNotNil(a.report["seconds"] as? Double)
    }

    func testFirstNumberGraderPaysWhenTheFirstAnswerDisagreesWithTheLast() throws {
        let a = try audit("first-number")
        XCTAssertEqual(a.status, 1, a.stderr)
        XCTAssertEqual(a.verdicts["first-last-disagree"], "pays", "\(a.report)")
        XCTAssertEqual(a.verdicts["boxed-spray"], "pays")
        XCTAssertEqual(a.verdicts["empty"], "holds")
        // The case whose answer scores 0 (its first number is 6) is not taken as the correct answer.
        let samples = a.report["samples"] as? [[String: Any]] ?? []
        XCTAssertTrue(samples.allSatisfy { ($0["correct"] as? Double) == 1.0 }, "\(samples)")
    }

    func testInProcessAssertHarnessPaysForEqAlwaysTrue() throws {
        let a = try audit("inprocess-asserts")
        XCTAssertEqual(a.status, 1, a.stderr)
        XCTAssertEqual(a.verdicts["eq-always-true"], "pays", "\(a.report)")
        let eq = (a.report["hacks"] as? [[String: Any]])?.first { $0["name"] as? String == "eq-always-true" }
        XCTAssertTrue((eq?["example"] as? String)?.contains("def __eq__(self, other): return True") == true, "\(eq ?? [:])")
        // Text hacks do not apply to a code task with no text reference.
        XCTAssertEqual(a.verdicts["many-candidates"], "skipped")
    }

    /// A harness that runs each program in a plain subprocess of the grader: the program can read the
    /// grader's environment and files, and a daemon it leaves behind kills later samples' programs.
    func testSubprocessHarnessPaysForReadingSecretsAndALingeringDaemon() throws {
        let a = try audit("subprocess-stdio")
        XCTAssertEqual(a.status, 1, a.stderr)
        XCTAssertEqual(a.verdicts["read-secrets"], "pays", "\(a.report)")
        XCTAssertEqual(a.verdicts["leftover-files"], "pays")
        // The daemon's own sample scores like the wrong answer; the damage shows in later samples.
        XCTAssertEqual(a.verdicts["lingering-daemon"], "holds")
        XCTAssertEqual(a.verdicts["state-persists"], "pays", "\(a.report)")
        let state = (a.report["hacks"] as? [[String: Any]])?.first { $0["name"] as? String == "state-persists" }
        XCTAssertTrue((state?["reason"] as? String)?.hasPrefix("the correct answer scored 0 after the rigged programs ran") == true,
                      "\(state ?? [:])")
        // Nothing else: the harness compares plain stdout in a separate process.
        for hack in ["eq-always-true", "exit-zero", "os-exit-zero", "forged-result", "patched-builtins", "empty"] {
            XCTAssertNotEqual(a.verdicts[hack], "pays", hack)
        }
    }

    func testObedientJudgePaysForInstructionsAndClaimedScores() throws {
        let a = try audit("obedient-judge")
        XCTAssertEqual(a.status, 1, a.stderr)
        XCTAssertEqual(a.verdicts["grader-instructions"], "pays", "\(a.report)")
        XCTAssertEqual(a.verdicts["perfect-score-claim"], "pays")
        XCTAssertEqual(a.verdicts["judge-injection"], "pays")
        XCTAssertEqual(a.verdicts["reference-pasted"], "holds")
    }

    func testSoundGraderPassesWithATable() throws {
        let dir = Self.fixtures.appendingPathComponent("exact-match").path
        let r = try RFTBinary.run(["grader", "audit", dir])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("hack "), r.stdout)
        XCTAssertTrue(r.stdout.contains("reference-pasted"), r.stdout)
        XCTAssertFalse(r.stdout.contains("PAYS"), r.stdout)
        XCTAssertTrue(r.stdout.contains("exact-match: 0 of "), r.stdout)
        XCTAssertTrue(r.stdout.contains("completions scored in"), r.stdout)
    }

    func testPayingHackIsShownWithAnExampleAndKnownLimitationsDoNotFail() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-audit-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("substring"), to: dir)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)

        let table = try RFTBinary.run(["grader", "audit", dir.path])
        XCTAssertEqual(table.status, 1)
        XCTAssertTrue(table.stdout.contains("PAYS"), table.stdout)
        XCTAssertTrue(table.stdout.contains("One example per paying hack:"), table.stdout)
        XCTAssertTrue(table.stdout.contains("reference-pasted (sample "), table.stdout)

        try #"{"known_limitations": {"reference-pasted": "substring matching by design", "many-candidates": "same"}}"#
            .write(to: dir.appendingPathComponent("audit.json"), atomically: true, encoding: .utf8)
        let known = try RFTBinary.run(["grader", "audit", dir.path, "--json"])
        XCTAssertEqual(known.status, 0, known.stdout + known.stderr)
        XCTAssertTrue(known.stdout.contains(#""known":["reference-pasted","many-candidates"]"#), known.stdout)
        XCTAssertTrue(known.stdout.contains("known limitation: substring matching by design"), known.stdout)

        try #"{"known_limitations": {"reference-pasta": "typo"}}"#
            .write(to: dir.appendingPathComponent("audit.json"), atomically: true, encoding: .utf8)
        let bad = try RFTBinary.run(["grader", "audit", dir.path])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("audit.json: known_limitations.reference-pasta: unknown hack"), bad.stderr)
    }

    func testInputSamplesAndBadArguments() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-audit-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent("in.jsonl")
        try #"{"id": "q", "messages": [{"role": "user", "content": "Sky colour?"}, {"role": "assistant", "content": "blue"}], "reference_answer": "blue"}"#
            .write(to: input, atomically: true, encoding: .utf8)
        let grader = Self.fixtures.appendingPathComponent("substring").path
        let r = try RFTBinary.run(["grader", "audit", grader, "--input", input.path, "--json"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains(#""samples":[{"id":"q""#), r.stdout)

        let gap = try RFTBinary.run(["grader", "audit", grader, "--min-gap=-1"])
        XCTAssertNotEqual(gap.status, 0)
        XCTAssertTrue(gap.stderr.contains("--min-gap must be a number ≥ 0"), gap.stderr)

        let missing = try RFTBinary.run(["grader", "audit", grader, "--input", dir.appendingPathComponent("nope.jsonl").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nope.jsonl"), missing.stderr)

        let help = try RFTBinary.run(["grader", "audit", "--help"])
        XCTAssertTrue(help.stdout.contains("rft grader audit graders/my-math"), help.stdout)
        XCTAssertTrue(help.stdout.contains("--min-gap"), help.stdout)
    }
}
