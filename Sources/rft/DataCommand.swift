import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import JSON

/// `rft data`: check and build Bedrock-format prompt datasets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Check and build Bedrock RFT prompt datasets (JSONL).",
        discussion: """
        Examples:
          rft data validate train.jsonl
          rft data from-invocation-logs logs/*.json --out train.jsonl --filter project=support
        """,
        subcommands: [DataValidateCommand.self, DataFromLogsCommand.self]
    )
}

struct DataValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a prompt JSONL file: schema errors with line numbers, and size warnings.",
        discussion: """
        Each line must be {"messages": [{"role": "system"|"user", "content": "..."}], "reference_answer": ...}.
        Errors name the line and field; the size is checked against Bedrock's 100-20,000 prompts.
        Exit status: 0 when valid (warnings allowed), 1 on any error.

        Example:
          rft data validate data/train.jsonl
        """
    )

    @Argument(help: "The JSONL file to check.") var file: String
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let report: DataReport
        do { report = try PromptDataset.validate(file) } catch {
            printError("\(error)"); throw ExitCode(1)
        }
        if json {
            let issues: [JSONValue] = report.issues.map {
                ["line": $0.line.map { JSONValue.number(Double($0)) } ?? .null, "field": $0.field.map(JSONValue.string) ?? .null,
                 "severity": .string($0.severity.rawValue), "message": .string($0.message)]
            }
            print(JSONValue.object(["file": .string(file), "prompts": .number(Double(report.records.count)),
                               "errors": .number(Double(report.errors.count)), "issues": .array(issues)]).jsonString(sortedKeys: true, pretty: true))
        } else {
            // Errors first, then warnings, each in line order.
            let shown = report.errors + report.warnings
            for issue in shown.prefix(50) { print(issue) }
            if shown.count > 50 { print("... and \(shown.count - 50) more") }
            let verdict = report.errors.isEmpty ? "valid" : "INVALID"
            let (p, e, w) = (report.records.count, report.errors.count, report.warnings.count)
            print("\(file): \(p) \(plural(p, "prompt")), \(e) \(plural(e, "error")), \(w) \(plural(w, "warning")): \(verdict)")
        }
        if !report.errors.isEmpty { throw ExitCode(1) }
    }
}

struct DataFromLogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-invocation-logs",
        abstract: "Convert Bedrock model invocation log records into training prompts.",
        discussion: """
        Each log record's request (system prompt and messages) becomes a prompt and the model's output
        becomes its reference_answer. Converse, Anthropic Messages and OpenAI chat bodies are understood.
        Log files may be JSONL or JSON (an array or one record). Duplicate prompts are dropped.

        Example:
          rft data from-invocation-logs logs/2026-11-*.json --out data/train.jsonl --filter team=search
        """
    )

    @Argument(help: "Invocation log files.") var logs: [String]
    @Option(help: "Output JSONL file.") var out: String
    @Option(help: "Keep records whose requestMetadata has KEY=VALUE (repeatable).") var filter: [String] = []
    @Flag(help: "Skip records without a model output.") var requireOutput = false

    func run() throws {
        var filters: [String: String] = [:]
        for f in filter {
            guard let eq = f.firstIndex(of: "=") else { throw ValidationError("--filter '\(f)' must be KEY=VALUE") }
            filters[String(f[..<eq])] = String(f[f.index(after: eq)...])
        }
        let c: InvocationLogs.Conversion
        do { c = try InvocationLogs.convert(paths: logs, filters: filters, requireOutput: requireOutput) } catch {
            printError("\(error)"); throw ExitCode(1)
        }
        let text = c.records.map { $0.jsonString(sortedKeys: true) }.joined(separator: "\n") + (c.records.isEmpty ? "" : "\n")
        try Data(text.utf8).write(to: URL(fileURLWithPath: out))
        print("read \(c.read) log records, wrote \(c.records.count) prompts to \(out)")
        for (reason, n) in c.skipped.sorted(by: { $0.key < $1.key }) { print("  skipped \(n): \(reason)") }
        if c.records.count < PromptDataset.recommendedRange.lowerBound {
            print("note: Bedrock accepts 100 to 20,000 prompts; check with `rft data validate \(out)`")
        }
    }
}

