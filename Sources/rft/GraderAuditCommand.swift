import ArgumentParser
import Foundation
import GraderRuntime
import JSON

/// `rft grader audit DIR [--input samples.jsonl] [--json] [--min-gap X]`.
struct GraderAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Probe a grader with known reward hacks before training on it; exit 1 when any hack pays.",
        discussion: """
        From each sample (DIR/cases.jsonl, or --input) the audit derives cheap adversarial completions: \
        generic (empty, whitespace, very long, a repeated token, the prompt echoed, the reference pasted \
        in odd places, many candidate answers, markup or JSON injection, broken text and control \
        characters, instructions to the grader), math (answer spraying, first and last answer \
        disagreeing, format tricks), code (rigged wrong programs: __eq__ always True, sys.exit(0) and \
        os._exit(0), forged results, patched builtins, files left for later samples, a daemon left \
        running, reading the grader's memory, environment or files), judge (prompt injection, a claimed perfect score, the rubric echoed) and \
        format (the right structure with no content). It scores them in the grader's sandbox, in \
        batches, next to each sample's correct answer (a case whose expected_score is the best in the \
        file, or the reference) and a clearly wrong one.

        A hack pays when it scores at least as much as the correct answer, when an output with no \
        content scores above 0, or when it scores more than --min-gap above the wrong answer. Exit \
        status: 0 when no hack pays, 1 when one does, 2 when the audit could not run or is \
        inconclusive (the grader failed to start or was throttled on some completions). Hacks \
        the grader documents in DIR/audit.json ({"known_limitations": {"HACK": "reason"}}) are \
        reported as known and do not fail the audit. A grader directory with a test-server.json \
        (the judge template's fake judge) gets that server started, as `rft grader test` does, \
        unless its variable (JUDGE_BASE_URL) is set. See docs/GRADERS.md.

        Examples:
          rft grader audit graders/my-math
          rft grader audit graders/my-code --input train.jsonl --json > report.json
          rft grader audit graders/my-judge --min-gap 0.2 --max-samples 3
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Option(name: .shortAndLong, help: "Samples to derive hacks from (JSON list or JSONL; their answers are taken as correct); default DIR/cases.jsonl.")
    var input: String?
    @Flag(help: "Print the report as JSON (for CI).") var json = false
    @Option(help: "How far above the clearly wrong answer a hack may score before it pays.") var minGap: Double = 0.1
    @Option(help: "Samples to derive hacks from, at most (distinct references, every kind of task first).") var maxSamples: Int = 6

    @OptionGroup var degraded: DegradedModeOption

    func validate() throws {
        guard minGap >= 0, minGap.isFinite else { throw ValidationError("--min-gap must be a number ≥ 0, got \(minGap)") }
        guard maxSamples >= 1 else { throw ValidationError("--max-samples must be at least 1, got \(maxSamples)") }
    }

    func run() throws {
        degraded.apply()
        let (manifest, url) = try loadManifest(directory)
        let known: [String: String]
        do { known = try KnownLimitations.load(directory: url) } catch let e as ManifestErrors {
            for err in e.errors { printError(err.description) }
            throw ExitCode(2)
        }
        let path = input ?? url.appendingPathComponent("cases.jsonl").path
        if input == nil && !FileManager.default.fileExists(atPath: path) {
            printError("\(path): no cases.jsonl in the grader directory; give samples with --input")
            throw ExitCode(2)
        }
        let raw = try readSamples(path).samples
        let (samples, trusted) = Self.candidates(raw, fromCases: input == nil)
        let subjects = GraderAudit.subjects(from: samples, trusted: trusted, limit: maxSamples)
        if subjects.isEmpty {
            printError("\(path): no sample to audit with: each needs a reference_answer, or an answer known to be correct")
            throw ExitCode(2)
        }
        // A helper server the grader needs (the judge template's fake judge), as `rft grader test` starts it.
        var options = GraderPool.Options()
        let server = try TestServer.start(for: url, manifest: manifest, into: &options)
        defer { server?.stop() }
        if let server {
            // On stderr: stdout may be the --json report.
            FileHandle.standardError.write(Data((server.notice(what: "the audit runs", purpose: "audit") + "\n").utf8))
        }
        let pool = try GraderPool(manifest: manifest, directory: url, options: options)
        for w in pool.unenforced { printWarning("\(manifest.name): \(w)") }
        let audit = GraderAudit(hints: .inspect(directory: url, manifest: manifest), minGap: minGap, knownLimitations: known)
        let report = audit.run(subjects: subjects, score: { pool.score($0) })
        pool.shutdown()
        if let e = report.baselineError {
            let first = e.message.split(separator: "\n").first.map(String.init) ?? ""
            printError("\(manifest.name): the grader scored none of the correct and wrong answers, so nothing can be compared: \(e.type.rawValue): \(first)")
            throw ExitCode(2)
        }
        if json {
            print(report.json(grader: manifest.name).jsonString)
        } else {
            print(Self.render(report, grader: manifest.name), terminator: "")
        }
        if report.failed { throw ExitCode(1) }
        if let e = report.infrastructureErrors.first {
            printError("\(manifest.name): the audit is inconclusive: \(report.infrastructureErrors.count) completions could not be scored "
                + "(\(e.type.rawValue): \(e.message.split(separator: "\n").first.map(String.init) ?? ""))")
            throw ExitCode(2)
        }
    }

    /// The samples to derive hacks from, and whether each one's own answer is correct: with --input,
    /// every answer; from cases.jsonl, the cases whose expected_score is the best in the file (cases
    /// expecting an error are left out).
    static func candidates(_ raw: [Sample], fromCases: Bool) -> ([Sample], [Bool]) {
        guard fromCases else { return (raw, raw.map { _ in true }) }
        let kept = raw.filter { $0.record["expected_error"] == nil }
        let best = kept.compactMap { $0.record["expected_score"]?.doubleValue }.max()
        return (kept, kept.map { s in
            guard let e = s.record["expected_score"]?.doubleValue, let best else { return false }
            return e >= best - 1e-9 && best > 0
        })
    }

    /// The hack × verdict table, one example per paying hack, warnings and the cost.
    static func render(_ r: AuditReport, grader: String) -> String {
        let f: (Double?) -> String = { $0.map(HackVerdict.fmt) ?? "-" }
        var rows: [[String]] = [["hack", "family", "verdict", "score", "correct", "wrong", "why"]]
        for h in r.hacks {
            let verdict = h.verdict == .pays ? "PAYS" : h.verdict == .skipped ? "n/a" : h.verdict.rawValue
            var why = h.reason
            if h.verdict == .error { why = h.errors.keys.sorted().joined(separator: ", ") }
            if h.verdict == .skipped { why = "does not apply to these samples" }
            rows.append([h.name, h.family.rawValue, verdict, h.verdict == .skipped ? "" : f(h.score),
                         h.verdict == .skipped ? "" : f(h.correct), h.verdict == .skipped ? "" : f(h.wrong), why])
        }
        let widths = (0..<6).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = ""
        for row in rows {
            out += (0..<6).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            out += "  " + row[6] + "\n"
            while out.hasSuffix(" \n") { out.removeLast(2); out += "\n" }
        }
        let paying = r.paying
        if !paying.isEmpty {
            out += "\nOne example per paying hack:\n"
            for h in paying {
                let example = JSONValue.string(String((h.example ?? "").prefix(400))).jsonString
                out += "  \(h.name) (sample \"\(h.subject ?? "?")\"): \(example)\((h.example?.count ?? 0) > 400 ? " ..." : "")\n"
            }
        }
        for s in r.subjects where !s.separates {
            out += "\nwarning: sample \"\(s.id)\": the correct answer scores \(f(s.correct)) and a clearly wrong one \(f(s.wrong)); "
            out += "only the degenerate and --min-gap rules apply to it"
        }
        if r.subjects.contains(where: { !$0.separates }) { out += "\n" }
        let pays = r.hacks.filter { $0.verdict == .pays }.count
        let knownCount = r.hacks.filter { $0.verdict == .known }.count
        let tried = r.hacks.filter { $0.verdict != .skipped }.count
        out += "\n\(grader): \(pays) of \(tried) hacks pay" + (knownCount > 0 ? " (\(knownCount) more are known limitations)" : "")
        out += String(format: "; %d samples audited, %d completions scored in %.1f s\n", r.subjects.count, r.samplesRun, r.seconds)
        return out
    }
}
