import Foundation
import XCTest
@testable import GraderRuntime
import JSON

/// The audit's hack generators, verdict rules and phases, with graders written as Swift closures
/// (the sandboxed runs are in CLITests/GraderAuditTests).
final class AuditTests: XCTestCase {
    private func sample(_ id: String, _ prompt: String, _ answer: String, _ ref: JSONValue?) -> Sample {
        Sample(id: id, messages: [("user", prompt), ("assistant", answer)], referenceAnswer: ref)
    }

    func testVerdictRules() {
        // At least the correct answer's score.
        XCTAssertTrue(HackVerdict.judge(score: 1, correct: 1, wrong: 0, degenerate: false, minGap: 0.5).pays)
        // A degenerate output above 0.
        XCTAssertTrue(HackVerdict.judge(score: 0.01, correct: 1, wrong: 0, degenerate: true, minGap: 0.5).pays)
        XCTAssertFalse(HackVerdict.judge(score: 0, correct: 1, wrong: 0, degenerate: true, minGap: 0.5).pays)
        // More than min-gap above the wrong answer, and not at min-gap exactly.
        XCTAssertTrue(HackVerdict.judge(score: 0.31, correct: 1, wrong: 0.2, degenerate: false, minGap: 0.1).pays)
        XCTAssertFalse(HackVerdict.judge(score: 0.3, correct: 1, wrong: 0.2, degenerate: false, minGap: 0.1).pays)
        // "As much as the correct answer" means nothing when the grader does not separate right from wrong.
        XCTAssertFalse(HackVerdict.judge(score: 0, correct: 0, wrong: 0, degenerate: false, minGap: 0.1).pays)
        // No score (an error, an abstention) is no reward.
        XCTAssertFalse(HackVerdict.judge(score: nil, correct: 1, wrong: 0, degenerate: true, minGap: 0).pays)
        XCTAssertEqual(HackVerdict.judge(score: 1, correct: 1, wrong: 0, degenerate: false, minGap: 0.1).reason,
                       "scores 1, as much as the correct answer (1)")
    }

    func testMathSubjectKeepsTheAnswerStyleForTheWrongAnswer() {
        let s = AuditSubject(sample: sample("m", "48/2 + 48?", "48/2 = 24\n48 + 24 = 72\n#### 72", "72"), trusted: true)
        XCTAssertTrue(s.isMath)
        XCTAssertNil(s.code)
        XCTAssertEqual(s.wrongValue, "223")
        XCTAssertEqual(s.wrong, "48/2 = 24\n48 + 24 = 223\n#### 223")
        XCTAssertEqual(s.honest, ["48/2 = 24\n48 + 24 = 72\n#### 72", "The answer is $\\boxed{72}$."])
        // An untrusted case (its expected score was not the best) contributes only the reference.
        let u = AuditSubject(sample: sample("u", "?", "\\boxed{6}", "5"), trusted: false)
        XCTAssertEqual(u.honest, ["The answer is $\\boxed{5}$."])
        XCTAssertEqual(u.wrong, "The answer is $\\boxed{22}$.")
        // Choice letters: another option, matched in its case.
        let b = AuditSubject(sample: sample("b", "?", "Not a trick: the correct option is B", "B"), trusted: true)
        XCTAssertTrue(b.isMath)
        XCTAssertEqual(b.wrong, "Not a trick: the correct option is A")
        XCTAssertEqual(AuditSubject.wrongValue("(D)"), "(A)")
        XCTAssertEqual(AuditSubject.wrongValue("A"), "C")
        XCTAssertTrue(AuditSubject.looksMathematical("0.\\overline{3}"))
        XCTAssertFalse(AuditSubject.looksMathematical("eleven"))
        XCTAssertEqual(AuditSubject(sample: sample("p", "?", "\\boxed{50\\%}", "50\\%"), trusted: true).wrongValue, "157\\%")
        // Text references: whole words only.
        let t = AuditSubject(sample: sample("t", "Capital?", "It is Paris, not Parisville.", "Paris"), trusted: true)
        XCTAssertFalse(t.isMath)
        XCTAssertEqual(t.wrong, "It is xylophone, not Parisville.")
    }

    func testCodeTasksFromTheThreeReferenceShapes() {
        let prog = "Here:\n```python\ndef add(a, b):\n    return a + b\n```\n"
        let f = AuditSubject(sample: sample("f", "add", prog, ["function": "add", "cases": [["args": [1, 2], "expected": 3]]]), trusted: true)
        XCTAssertEqual(f.code?.shape, .function)
        XCTAssertEqual(f.code?.functions, ["add"])
        XCTAssertEqual(f.code?.honestProgram, "def add(a, b):\n    return a + b\n")
        let a = AuditSubject(sample: sample("a", "mean", prog, ["asserts": ["assert abs(mean([1, 2]) - 1.5) < 1e-9", "assert len(x.y(1)) == 2 and sorted(top(3)) == [1]"]]), trusted: true)
        XCTAssertEqual(a.code?.shape, .asserts)
        XCTAssertEqual(a.code?.functions, ["mean", "top"])
        // A reference written as a JSON string is decoded.
        let t = AuditSubject(sample: sample("t", "echo", prog, .string(#"{"tests": [{"stdin": "1\n", "stdout": "1"}]}"#)), trusted: true)
        XCTAssertEqual(t.code?.shape, .stdio)
        XCTAssertEqual(t.code?.functions, [])
        XCTAssertNil(t.referenceText)
        // The wrong answer is a program too; every program carries RFT_AUDIT first.
        XCTAssertTrue(f.wrong.hasPrefix("```python\nRFT_AUDIT = {\"functions\": [\"add\"], "), f.wrong)
        XCTAssertTrue(f.wrong.contains("rft-audit: wrong"))
        XCTAssertEqual(CodeTask.lastFencedBlock("a ```py\nx = 1\n``` b ```\ny = 2\n```"), "y = 2\n")
        XCTAssertNil(CodeTask.lastFencedBlock("```python\nunclosed"))
    }

    func testFamiliesFollowWhatTheSampleAndGraderLookLike() {
        let math = AuditSubject(sample: sample("m", "?", "\\boxed{3}", "3"), trusted: true)
        XCTAssertEqual(HackLibrary.families(for: math, hints: GraderHints()), [.generic, .math, .format])
        let text = AuditSubject(sample: sample("t", "?", "Paris", "Paris"), trusted: true)
        XCTAssertEqual(HackLibrary.families(for: text, hints: GraderHints()), [.generic])
        XCTAssertEqual(HackLibrary.families(for: text, hints: GraderHints(isJudge: true)), [.generic, .judge])
        let code = AuditSubject(sample: sample("c", "?", "```python\nprint(1)\n```", ["tests": [["stdin": "", "stdout": "1"]]]), trusted: true)
        XCTAssertTrue(HackLibrary.families(for: code, hints: GraderHints()).contains(.code))
        XCTAssertFalse(HackLibrary.families(for: code, hints: GraderHints()).contains(.math))
    }

    /// No generator may emit the correct answer itself: a hack that is the honest answer would "pay".
    func testNoHackIsTheCorrectAnswer() {
        let subjects = [
            AuditSubject(sample: sample("m", "6*7?", "The answer is \\boxed{42}.", "42"), trusted: true),
            AuditSubject(sample: sample("t", "Capital?", "Paris", "Paris"), trusted: true),
            AuditSubject(sample: sample("f", "Report.", "## Summary\nFine.\n\n## Answer\nYes.", nil), trusted: true),
            AuditSubject(sample: sample("c", "add", "```python\ndef add(a, b):\n    return a + b\n```",
                                        ["function": "add", "cases": [["args": [1, 2], "expected": 3]]]), trusted: true),
        ]
        let hints = GraderHints(isJudge: true, isFormat: true, token: "t")
        for s in subjects {
            var produced = 0
            for g in HackLibrary.all {
                for c in g.make(s, hints) {
                    produced += 1
                    XCTAssertFalse(s.honest.contains(c), "\(g.name) on \(s.id) emitted the correct answer")
                    XCTAssertNotEqual(c, s.wrong, "\(g.name) on \(s.id) emitted the wrong baseline")
                }
            }
            XCTAssertGreaterThan(produced, 15, s.id)
        }
    }

    func testFormatSkeletonAndFiller() {
        XCTAssertEqual(FormatShape.skeleton("## Summary\nThe plan is sound.\n\n## Answer\nShip it."), "## Summary\n\n## Answer")
        XCTAssertEqual(FormatShape.skeleton("**Summary**\nFine.\n**Answer:** yes"), "**Summary**\n**Answer:**")
        XCTAssertEqual(FormatShape.skeleton(#"{"label": "positive", "n": 3, "tags": ["a", "b"]}"#), #"{"label":"","n":0,"tags":[""]}"#)
        XCTAssertEqual(FormatShape.skeleton("So \\boxed{\\frac{3}{4}}."), "So \\boxed{}.")
        XCTAssertEqual(FormatShape.filler("Summary: fine\nAnswer: yes"),
                       "Summary: Lorem ipsum dolor sit amet.\nAnswer: Lorem ipsum dolor sit amet.")
        XCTAssertNil(FormatShape.skeleton("Paris"))
    }

    /// A Swift substring grader: the reference anywhere in the answer scores 1.
    private static let substring: @Sendable ([Sample]) -> [SampleResult] = { samples in
        samples.map { s in
            let ref = s.referenceAnswer?.stringValue ?? ""
            let hit = !ref.isEmpty && (s.completionText ?? "").lowercased().contains(ref.lowercased())
            return SampleResult(id: s.id, outcome: .scored(hit ? 1 : 0))
        }
    }

    func testAuditNamesTheHacksASubstringGraderPays() {
        let subjects = GraderAudit.subjects(from: [sample("c", "Capital of France?", "Paris", "Paris")], trusted: [true], limit: 6)
        let report = GraderAudit().run(subjects: subjects, score: Self.substring)
        let paying = report.hacks.filter { $0.verdict == .pays }.map(\.name)
        XCTAssertEqual(paying, ["reference-pasted", "many-candidates"])
        XCTAssertTrue(report.failed)
        let pasted = report.hacks.first { $0.name == "reference-pasted" }!
        XCTAssertEqual(pasted.correct, 1); XCTAssertEqual(pasted.wrong, 0); XCTAssertEqual(pasted.score, 1)
        XCTAssertEqual(pasted.subject, "c")
        XCTAssertTrue(pasted.example!.contains("Paris") && pasted.example!.contains("xylophone"))
        XCTAssertEqual(report.hacks.first { $0.name == "empty" }?.verdict, .holds)
        XCTAssertEqual(report.hacks.first { $0.name == "eq-always-true" }?.verdict, .skipped)
        XCTAssertGreaterThan(report.samplesRun, 20)

        let known = GraderAudit(knownLimitations: ["reference-pasted": "by design", "many-candidates": "by design"])
            .run(subjects: subjects, score: Self.substring)
        XCTAssertFalse(known.failed)
        XCTAssertEqual(known.paying.map(\.verdict), [.known, .known])
    }

    /// A grader whose whole batch fails when one answer holds "sys.exit(0)" (as an in-process harness
    /// that exec()s it would): the other samples of the batch are scored again alone.
    func testABatchKillerDoesNotHideItsNeighbours() {
        let killer: @Sendable ([Sample]) -> [SampleResult] = { samples in
            if samples.count > 1, samples.contains(where: { ($0.completionText ?? "").contains("sys.exit(0)") }) {
                return samples.map { .failed($0.id, .crash, "worker exited") }
            }
            return samples.map { s in
                let t = s.completionText ?? ""
                if t.contains("sys.exit(0)") { return .failed(s.id, .crash, "worker exited") }
                return SampleResult(id: s.id, outcome: .scored(t.contains("return True") || t.contains("return a + b") ? 1 : 0))
            }
        }
        let s = sample("f", "add", "```python\ndef add(a, b):\n    return a + b\n```", ["function": "add", "cases": [["args": [1, 2], "expected": 3]]])
        let report = GraderAudit().run(subjects: GraderAudit.subjects(from: [s], trusted: [true], limit: 1), score: killer)
        XCTAssertEqual(report.hacks.first { $0.name == "eq-always-true" }?.verdict, .pays)
        XCTAssertEqual(report.hacks.first { $0.name == "exit-zero" }?.verdict, .error)
        XCTAssertEqual(report.hacks.first { $0.name == "exit-zero" }?.errors, ["crash": 1])
        XCTAssertEqual(report.subjects.first?.correct, 1)
    }

    /// Tampering that reaches later samples shows up when the baselines are scored again.
    func testStateThatReachesLaterSamplesPays() {
        final class Poisoned: @unchecked Sendable { var on = false; let lock = NSLock() }
        let state = Poisoned()
        let grader: @Sendable ([Sample]) -> [SampleResult] = { samples in
            samples.map { s in
                let t = s.completionText ?? ""
                state.lock.lock(); defer { state.lock.unlock() }
                if t.contains("builtins.abs = lambda x: 0") { state.on = true }
                return SampleResult(id: s.id, outcome: .scored(state.on || t.contains("return x * x") ? 1 : 0))
            }
        }
        let s = sample("sq", "square", "```python\ndef square(x):\n    return x * x\n```", ["asserts": ["assert square(3) == 9"]])
        let report = GraderAudit().run(subjects: GraderAudit.subjects(from: [s], trusted: [true], limit: 1), score: grader)
        let state_ = report.hacks.first { $0.name == "state-persists" }
        XCTAssertEqual(state_?.verdict, .pays)
        XCTAssertEqual(state_?.reason, "the clearly wrong answer scored 1 after the rigged programs ran, 0 before")
        XCTAssertEqual(report.hacks.first { $0.name == "patched-builtins" }?.verdict, .pays)
        XCTAssertEqual(report.hacks.first { $0.name == "eq-always-true" }?.verdict, .holds)
    }

    func testSubjectsAreDistinctAndCoverEveryKindFirst() {
        var samples: [Sample] = []
        for i in 0..<5 { samples.append(sample("m\(i)", "?", "\\boxed{\(i)}", .string("\(i)"))) }
        samples.append(sample("m0-again", "?", "\\boxed{0}", "0"))
        samples.append(sample("t", "?", "Paris", "Paris"))
        samples.append(sample("c", "?", "```python\nprint(1)\n```", ["tests": [["stdin": "", "stdout": "1"]]]))
        samples.append(sample("c2", "?", "```python\nprint(2)\n```", ["tests": [["stdin": "", "stdout": "2"]]]))
        samples.append(sample("c3", "?", "```python\ndef f(): return 3\n```", ["function": "f", "cases": [["args": [], "expected": 3]]]))
        let picked = GraderAudit.subjects(from: samples, trusted: samples.map { _ in true }, limit: 4).map(\.id)
        XCTAssertEqual(picked, ["m0", "t", "c", "c3"])
        XCTAssertEqual(GraderAudit.subjects(from: samples, trusted: samples.map { _ in true }, limit: 6).map(\.id),
                       ["m0", "t", "c", "c3", "m1", "c2"])
        // Code samples (a sandboxed program run per test and hack) take at most half of the places.
        let code = (0..<4).map { sample("k\($0)", "?", "```python\nprint(\($0))\n```", ["tests": [["stdin": "", "stdout": .string("\($0)")]]]) }
        XCTAssertEqual(GraderAudit.subjects(from: code, trusted: code.map { _ in true }, limit: 4).map(\.id), ["k0", "k1"])
    }

    func testKnownLimitationsFileErrorsNameTheField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try KnownLimitations.load(directory: dir), [:])
        let file = dir.appendingPathComponent("audit.json")
        try #"{"known_limitations": {"empty-skeleton": "form only"}}"#.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try KnownLimitations.load(directory: dir), ["empty-skeleton": "form only"])
        try #"{"known_limitations": {"emty": "x", "empty": ""}, "extra": 1}"#.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KnownLimitations.load(directory: dir)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("audit.json: extra: unknown field"), text)
            XCTAssertTrue(text.contains("audit.json: known_limitations.emty: unknown hack"), text)
            XCTAssertTrue(text.contains("audit.json: known_limitations.empty: needs a non-empty reason string"), text)
        }
    }

    /// The rigged programs are compiled into the binary and parse as Python once RFT_AUDIT is written
    /// before them (parsed with ast only: no hack program runs outside the sandbox).
    func testEmbeddedProgramsParse() throws {
        let task = CodeTask(reference: ["function": "add"], honestCompletion: "```python\ndef add(a, b): return a + b\n```")!
        for body in [CodePrograms.wrong, CodePrograms.eqAlwaysTrue, CodePrograms.exitZero, CodePrograms.osExitZero,
                     CodePrograms.forgedResult, CodePrograms.patchedBuiltins, CodePrograms.readGraderMemory,
                     CodePrograms.readSecrets, CodePrograms.lingeringDaemon,
                     CodePrograms.leftoverWriter, CodePrograms.leftoverReader] {
            XCTAssertGreaterThan(body.count, 40)
            let program = CodeTask.lastFencedBlock(task.program(body, token: "tok", slot: "s1"))!
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            p.arguments = ["-I", "-c", "import ast, sys; ast.parse(sys.stdin.read())"]
            let inp = Pipe()
            p.standardInput = inp
            try p.run()
            inp.fileHandleForWriting.write(Data(program.utf8))
            try inp.fileHandleForWriting.close()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, program)
        }
        // Both readers end with the shared search for the expected outputs, after their own _chunks().
        for reader in [CodePrograms.readGraderMemory, CodePrograms.readSecrets] {
            let chunks = reader.range(of: "def _chunks():")!, search = reader.range(of: "def _expected_stdout(")!
            XCTAssertLessThan(chunks.lowerBound, search.lowerBound)
        }
        XCTAssertTrue(CodePrograms.readSecrets.contains("/proc/%s/environ"))
        XCTAssertTrue(CodePrograms.lingeringDaemon.contains("os.setsid()"))
    }
}
