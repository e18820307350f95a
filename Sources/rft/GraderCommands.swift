import ArgumentParser
import Foundation
import GraderRuntime

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


func readSamples(_ path: String) throws -> [Sample] {
    let data: Data?
    if path == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: path) }
    guard let data else { printError("cannot read \(path)"); throw ExitCode(2) }
    do { return try Sample.read(Array(data), source: path == "-" ? "<stdin>" : path) } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
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

        Example:
          rft grader invoke graders/bedrock-lambda --input samples.jsonl --logs
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Option(name: .shortAndLong, help: "Samples: a JSON list or JSONL file, or - for stdin.") var input: String
    @Flag(help: "Print each batch's captured stdout and stderr to stderr.") var logs = false

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        let (manifest, url) = try loadManifest(directory)
        let samples = try readSamples(input)
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

        Example:
          rft grader test graders/openai-grade --cases graders/openai-grade/cases.jsonl
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Option(help: "Cases file (JSONL or JSON list); default DIR/cases.jsonl.") var cases: String?

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        let (manifest, url) = try loadManifest(directory)
        let casesPath = cases ?? url.appendingPathComponent("cases.jsonl").path
        let raw = try readSamples(casesPath)
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
        let pool = try GraderPool(manifest: manifest, directory: url)
        for w in pool.unenforced { printWarning("\(manifest.name): \(w)") }
        let results = pool.score(samples)
        pool.shutdown()

        var rows: [[String]] = [["case", "expected", "got", "result"]]
        var failures = 0
        for (r, e) in zip(results, expectations) {
            let row = Self.row(r, expectedScore: e.score, tolerance: e.tolerance, expectedError: e.error)
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
        Like OpenAI's grader validate endpoint: prints {"valid": true|false, "errors": [...]}, each error \
        with a type ("manifest", "init_error", ...), the field path where one applies, and a message.

        Example:
          rft grader validate graders/bedrock-lambda
        """
    )

    @Argument(help: "The grader directory.") var directory: String

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
        var report = JSONObject()
        report["valid"] = .bool(errors.isEmpty)
        if let name { report["name"] = .string(name) }
        report["errors"] = .array(errors)
        if !warnings.isEmpty { report["warnings"] = .array(warnings) }
        print(JSONValue.object(report).jsonString)
        if !errors.isEmpty { throw ExitCode(1) }
    }
}
