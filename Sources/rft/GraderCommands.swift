import ArgumentParser
import Foundation
import GraderRuntime
import JSON

/// `rft grader`: run, test, validate and benchmark graders.
struct GraderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grader",
        abstract: "Run, test, validate and benchmark graders (a directory with grader.json).",
        discussion: """
        A grader is a directory with a grader.json manifest, its code, and optionally cases.jsonl. \
        Python handlers (bedrock, openai, trl and verl contracts) run in warm sandboxed workers; \
        exec graders get the batch JSON on stdin and print the output list. See docs/GRADERS.md.

        Examples:
          rft grader validate graders/bedrock-lambda
          rft grader test graders/bedrock-lambda
          rft grader invoke graders/bedrock-lambda --input samples.jsonl --logs
          rft grader bench graders/trivial --samples 20000 --json
        """,
        subcommands: [GraderInvokeCommand.self, GraderTestCommand.self, GraderValidateCommand.self, GraderBenchCommand.self, GraderAuditCommand.self]
    )
}

/// Loads a manifest, printing every problem (with its field path) before failing.
func loadManifest(_ dir: String) throws -> (GraderManifest, URL) {
    let url = URL(fileURLWithPath: dir)
    do {
        return (try GraderManifest.load(directory: url), url)
    } catch let e as ManifestErrors {
        for err in e.errors { printError(err.description) }
        throw ExitCode(2)
    }
}


/// Reads samples; every bad line is printed as `error: file:line:column: ...`. Strict: any bad line
/// exits 2 (after listing them all); otherwise the readable samples are returned with the count of bad lines.
func readSamples(_ path: String, strict: Bool = true) throws -> (samples: [Sample], badLines: Int) {
    let data: Data?
    if path == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: path) }
    guard let data else { printError("cannot read \(path)"); throw ExitCode(2) }
    let read: (samples: [Sample], problems: [SampleInputError])
    do { read = try Sample.readLeniently(Array(data), source: path == "-" ? "<stdin>" : path) } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
    for p in read.problems { printError(p.message) }
    if strict && !read.problems.isEmpty {
        printError("\(read.problems.count) bad \(plural(read.problems.count, "line")) in \(path); nothing was scored")
        throw ExitCode(2)
    }
    return (read.samples, read.problems.count)
}

/// `N failed grading: handler_error ×2, timeout ×1` and one line per type with the first sample and message.
func errorSummary(_ results: [SampleResult]) -> [String] {
    var byType: [String: (count: Int, first: SampleResult)] = [:]
    for r in results { if let e = r.error { byType[e.type.rawValue, default: (0, r)].count += 1 } }
    guard !byType.isEmpty else { return [] }
    let failed = byType.values.reduce(0) { $0 + $1.count }
    let types = byType.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
    var lines = ["\(failed) of \(results.count) \(plural(results.count, "sample")) failed grading: "
                 + types.map { "\($0.key) ×\($0.value.count)" }.joined(separator: ", ")]
    for (type, v) in types {
        let message = v.first.error.map { firstLine($0.message) } ?? ""
        lines.append("  \(type) (first: sample \"\(v.first.id)\"): \(message)")
    }
    return lines
}

/// The first line of a message, at most 300 characters.
func firstLine(_ s: String) -> String {
    let line = s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? s
    return line.count > 300 ? String(line.prefix(300)) + "…" : line
}

/// `rft grader invoke DIR --input FILE`.
struct GraderInvokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Score samples with a grader and print the output list.",
        discussion: """
        The input is a JSON list or JSONL of samples in Bedrock's format (messages ending with the \
        generated assistant turn, an id, reference_answer at the top level or under metadata). \
        Each output entry is {"id", "aggregate_reward_score", "metrics_list"} or {"id", "error": {"type", "message"}}.

        A JSONL line that is not a JSON object is reported as file:line:column and the other lines are \
        scored (--strict: nothing is scored). Exit status: 0 when every sample scored, 1 when any sample \
        failed grading or any line was unreadable (a summary goes to stderr; --allow-errors exits 0), \
        2 for an unusable grader or input.

        Examples:
          rft grader invoke graders/bedrock-lambda --input samples.jsonl --logs
          rft grader invoke graders/bedrock-lambda --input samples.jsonl --allow-errors > out.json
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Option(name: .shortAndLong, help: "Samples: a JSON list or JSONL file, or - for stdin.") var input: String
    @Flag(help: "Print each batch's captured stdout and stderr to stderr.") var logs = false
    @Flag(help: "Exit 0 even when samples failed grading or input lines were skipped.") var allowErrors = false
    @Flag(help: "Score nothing when any input line is unreadable.") var strict = false

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        let (manifest, url) = try loadManifest(directory)
        let (samples, badLines) = try readSamples(input, strict: strict)
        var options = GraderPool.Options()
        if logs {
            options.captureLogs = true
            options.onBatch = { GraderInvokeCommand.printLog($0) }
        }
        let pool = try GraderPool(manifest: manifest, directory: url, options: options)
        for w in pool.unenforced { printWarning("\(manifest.name): \(w)") }
        let results = pool.score(samples)
        pool.shutdown()
        var out = "[\n"
        for (i, r) in results.enumerated() { out += "  " + r.json.jsonString + (i + 1 < results.count ? ",\n" : "\n") }
        out += "]\n"
        FileHandle.standardOutput.write(Data(out.utf8))
        let summary = errorSummary(results)
        if let head = summary.first { printError(head); for line in summary.dropFirst() { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
        if badLines > 0 { printError("\(badLines) \(plural(badLines, "line")) of \(input) could not be read and \(badLines == 1 ? "was" : "were") skipped (listed above)") }
        if (!summary.isEmpty || badLines > 0) && !allowErrors { throw ExitCode(1) }
    }

    @Sendable static func printLog(_ log: GraderPool.BatchLog) {
        var text = "--- batch \(log.requestID) (\(log.ids.count) samples, attempt \(log.attempt), "
        text += String(format: "%.1f ms)", log.wallMs)
        if let e = log.error { text += " \(e.type.rawValue)" }
        text += " ---\n"
        if !log.stdout.isEmpty { text += "[stdout]\n" + log.stdout + (log.stdout.hasSuffix("\n") ? "" : "\n") }
        if !log.stderr.isEmpty { text += "[stderr]\n" + log.stderr + (log.stderr.hasSuffix("\n") ? "" : "\n") }
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// `rft grader test DIR [--cases FILE]`.
struct GraderTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a grader's cases and compare with the expected scores; exit 1 on any failure.",
        discussion: """
        Each case is a sample plus "expected_score" (a number, or null for an abstention) and an optional \
        "tolerance" (default 1e-6), or "expected_error" (an error type such as "timeout").

        A grader that cannot start (an init_error) is reported once, above the table. --logs prints what \
        the grader printed, batch by batch, to stderr.

        Examples:
          rft grader test graders/openai-grade --cases graders/openai-grade/cases.jsonl
          rft grader test graders/bedrock-lambda --logs
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Option(help: "Cases file (JSONL or JSON list); default DIR/cases.jsonl.") var cases: String?
    @Flag(help: "Print each batch's captured stdout and stderr to stderr.") var logs = false

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        let (manifest, url) = try loadManifest(directory)
        let casesPath = cases ?? url.appendingPathComponent("cases.jsonl").path
        let raw = try readSamples(casesPath).samples
        struct Expectation { var score: JSONValue?; var tolerance: Double; var error: String? }
        var expectations: [Expectation] = []
        var samples: [Sample] = []
        for (i, s) in raw.enumerated() {
            var rec = s.record
            let exp = Expectation(score: rec["expected_score"], tolerance: rec["tolerance"]?.doubleValue ?? 1e-6,
                                  error: rec["expected_error"]?.stringValue)
            if exp.score == nil && exp.error == nil {
                printError("\(casesPath): case \(i + 1) (\"\(s.id)\"): needs \"expected_score\" or \"expected_error\"")
                throw ExitCode(2)
            }
            rec["expected_score"] = nil; rec["tolerance"] = nil; rec["expected_error"] = nil
            expectations.append(exp)
            samples.append(Sample(record: rec, defaultID: s.id))
        }
        var options = GraderPool.Options()
        if logs {
            options.captureLogs = true
            options.onBatch = { GraderInvokeCommand.printLog($0) }
        }
        // A helper server the cases need (the judge template's fake judge), started in the sandbox.
        let server = try TestServer.start(for: url, manifest: manifest, into: &options)
        defer { server?.stop() }
        if let server {
            print(server.notice)
        }
        let pool = try GraderPool(manifest: manifest, directory: url, options: options)
        for w in pool.unenforced { printWarning("\(manifest.name): \(w)") }
        let results = pool.score(samples)
        pool.shutdown()

        // An init error is the same for every case: say it once, in full, above the table.
        let initErrors = Set(results.compactMap { $0.error?.type == .initError ? $0.error!.message : nil })
        for message in initErrors.sorted() {
            print("error: \(manifest.name) could not start (init_error):\n" + message)
        }
        var rows: [[String]] = [["case", "expected", "got", "result"]]
        var failures = 0
        for (r, e) in zip(results, expectations) {
            var row = Self.row(r, expectedScore: e.score, tolerance: e.tolerance, expectedError: e.error)
            if !row.pass, r.error?.type == .initError { row.verdict = "FAIL  (init_error, above)" }
            if !row.pass { failures += 1 }
            rows.append([r.id, row.expected, row.got, row.verdict])
        }
        let widths = (0..<3).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            let line = (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            print(line + "  " + row[3])
        }
        print("\(manifest.name): \(results.count - failures)/\(results.count) cases passed")
        if failures > 0 { throw ExitCode(1) }
    }

    /// One table row: what was expected, what came back, and whether they agree.
    static func row(_ r: SampleResult, expectedScore: JSONValue?, tolerance: Double, expectedError: String?)
        -> (expected: String, got: String, pass: Bool, verdict: String)
    {
        var score: Double?
        var abstained = false
        var error: GraderError?
        switch r.outcome {
        case .scored(let s): score = s
        case .abstained: abstained = true
        case .failed(let err): error = err
        }
        let got = score.map(fmt) ?? (abstained ? "abstain" : error?.type.rawValue ?? "?")
        let expected: String
        let pass: Bool
        if let expectedError {
            expected = expectedError
            pass = error?.type.rawValue == expectedError
        } else if let want = expectedScore?.doubleValue {
            expected = tolerance > 1e-6 ? "\(fmt(want)) ±\(fmt(tolerance))" : fmt(want)
            pass = score.map { abs($0 - want) <= tolerance } ?? false
        } else {
            expected = "abstain"
            pass = abstained
        }
        var verdict = pass ? "PASS" : "FAIL"
        if !pass, let error { verdict += "  " + (error.message.split(separator: "\n").first.map(String.init) ?? "") }
        return (expected, got, pass, verdict)
    }

    static func fmt(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(format: "%.4g", d)
    }
}

/// `rft grader validate DIR`.
struct GraderValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the manifest and run the init phase in the sandbox; report structured errors.",
        discussion: """
        Prints whether the grader is valid and every problem: manifest fields (with "did you mean"), an \
        init error with the grader's own traceback (rft's bootstrap frames left out). --json prints \
        {"valid": true|false, "name", "errors": [{"type", "field", "message"}], "warnings"} like OpenAI's \
        grader validate endpoint. Exit status 1 when invalid.

        Examples:
          rft grader validate graders/bedrock-lambda
          rft grader validate graders/bedrock-lambda --json
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Flag(help: "Print the result as JSON.") var json = false

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        let url = URL(fileURLWithPath: directory)
        var errors: [JSONValue] = []
        var name: String?
        var warnings: [JSONValue] = []
        do {
            let m = try GraderManifest.load(directory: url)
            name = m.name
            let pool = try GraderPool(manifest: m, directory: url, options: .init(prewarm: false))
            warnings = pool.unenforced.map { .string($0) }
            if let e = pool.validate() {
                errors.append(["type": .string(e.type.rawValue), "message": .string(e.message)])
            }
            pool.shutdown()
        } catch let e as ManifestErrors {
            for err in e.errors {
                errors.append(["type": "manifest", "file": .string(err.file), "field": .string(err.field), "message": .string(err.message)])
            }
        } catch {
            errors.append(["type": "sandbox_error", "message": .string("\(error)")])
        }
        if json {
            var report = JSONObject()
            report["valid"] = .bool(errors.isEmpty)
            if let name { report["name"] = .string(name) }
            report["errors"] = .array(errors)
            if !warnings.isEmpty { report["warnings"] = .array(warnings) }
            print(JSONValue.object(report).jsonString)
        } else {
            let label = name ?? directory
            for w in warnings { print("warning: \(label): \(w.stringValue ?? "")") }
            if errors.isEmpty {
                print("\(label): valid (manifest checked, handler imported in the sandbox)")
            } else {
                print("\(label): INVALID, \(errors.count) \(plural(errors.count, "problem")):")
                for e in errors {
                    let type = e["type"]?.stringValue ?? "error", message = e["message"]?.stringValue ?? ""
                    if let field = e["field"]?.stringValue {
                        let place = [e["file"]?.stringValue, field.isEmpty ? nil : field].compactMap { $0 }.joined(separator: ": ")
                        print("  \(place): \(message)")
                    } else {
                        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
                        print("  \(type): \(lines.first ?? "")")
                        for l in lines.dropFirst() { print("    " + l) }
                    }
                }
            }
        }
        if !errors.isEmpty { throw ExitCode(1) }
    }
}
