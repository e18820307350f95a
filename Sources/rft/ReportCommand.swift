import ArgumentParser
import Foundation
import RunReports

/// `rft report RUN_DIR [--out FILE]`: one self-contained HTML report of a training run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report (inline SVG charts, no scripts) of a run directory.",
        discussion: """
        The report shows train and validation reward against the baseline, the reward distribution \
        over time, per-grader rewards, KL, entropy, completion length, grader latency and errors, the \
        monitor's warnings at the steps where they fired, the best and worst completions per step, the \
        config, and a baseline vs final comparison. It works on a run that is still going.

        Examples:
          rft report runs/demo
          rft report runs/demo --out /tmp/demo-report.html
        """
    )

    @Argument(help: "The run directory (holds metrics.jsonl, samples.jsonl, summary.json, ...).",
              completion: .directory)
    var runDir: String

    @Option(name: .long, help: "Where to write the report (default: RUN_DIR/report.html).")
    var out: String?

    func run() throws {
        let run = try RunData(runDirectory: URL(fileURLWithPath: runDir))
        let url = try ReportBuilder(run: run).writeHTML(to: out.map { URL(fileURLWithPath: $0) })
        let problems = run.problems
        for p in problems.prefix(10) { printWarning("\(runDir)/\(p)") }
        if problems.count > 10 {
            printWarning("\(problems.count - 10) more problems, listed in the report")
        }
        print("report: \(url.path)")
    }
}
