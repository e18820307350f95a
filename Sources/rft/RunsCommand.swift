import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import JSON

/// `rft runs`: list training runs and show one.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List training runs and show their status, steps, validation reward and checkpoints.",
        discussion: """
        Examples:
          rft runs list
          rft runs show runs/demo
        """,
        subcommands: [RunsListCommand.self, RunsShowCommand.self]
    )
}

func statusText(_ s: RunSummary) -> String {
    s.isStale ? "\(s.status.rawValue) (process gone: resume with rft train --resume)" : s.status.rawValue
}

func rewardText(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "-" }

struct RunsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the runs under a directory, newest first.",
        discussion: "Example:\n  rft runs list --root runs")

    @Option(help: "Directory holding run directories.") var root = "runs"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let runs = RunDirectory.list(root: root)
        if json {
            let items: [JSONValue] = runs.compactMap { r in
                guard let s = try? r.readSummary() else { return nil }
                var o = JSONValue.from(s).objectValue ?? [:]
                o["run_dir"] = .string(r.path)
                return .object(o)
            }
            print(JSONValue.array(items).jsonString(sortedKeys: true, pretty: true)); return
        }
        if runs.isEmpty { print("no runs under \(root)/ (start one with `rft demo` or `rft train --config FILE`)"); return }
        print(pad("RUN", 28) + pad("STATUS", 12) + pad("STEP", 11) + pad("BASELINE", 10) + pad("BEST VAL", 10) + "FINAL VAL")
        for r in runs {
            guard let s = try? r.readSummary() else { continue }
            let status = s.isStale ? "InProgress*" : s.status.rawValue
            print(pad(r.url.lastPathComponent, 28) + pad(status, 12) + pad("\(s.steps)/\(s.totalSteps)", 11)
                  + pad(rewardText(s.baselineValReward), 10) + pad(rewardText(s.bestValReward), 10) + rewardText(s.finalValReward))
        }
        if runs.contains(where: { (try? $0.readSummary())?.isStale == true }) {
            print("* the process that ran it is gone; continue with `rft train --resume RUN_DIR`")
        }
    }
}

struct RunsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one run: status, steps, rewards, checkpoints and files.",
        discussion: "Example:\n  rft runs show runs/demo")

    @Argument(help: "The run directory (or its name under --root).") var runDir: String
    @Option(help: "Directory holding run directories.") var root = "runs"
    @Flag(help: "Print summary.json.") var json = false

    func run() throws {
        var dir = RunDirectory(runDir)
        if !dir.exists { dir = RunDirectory(URL(fileURLWithPath: root).appendingPathComponent(runDir).path) }
        guard dir.exists, let s = try? dir.readSummary() else {
            printError("no run at \(runDir) (a run directory holds summary.json)"); throw ExitCode(1)
        }
        if json { print(JSONValue.from(s).jsonString(sortedKeys: true, pretty: true)); return }
        print("run:              \(dir.path)")
        print("status:           \(statusText(s))")
        if let e = s.error { print("error:            \(e)") }
        print("step:             \(s.steps)/\(s.totalSteps) (epoch \(s.epoch))")
        print("baseline val:     \(rewardText(s.baselineValReward))")
        print("best val:         \(rewardText(s.bestValReward))  \(s.bestCheckpoint.map { "(\($0))" } ?? "")")
        print("final val:        \(rewardText(s.finalValReward))")
        for t in s.testSplits {
            print("\(t.name) (held out):".padding(toLength: 18, withPad: " ", startingAt: 0)
                  + "baseline \(rewardText(t.baselineReward)) → final \(rewardText(t.finalReward)) (\(t.prompts) prompts)")
        }
        if let last = dir.readLines("metrics.jsonl").last {
            let keys = ["reward", "reward_std", "kl", "entropy", "frac_reward_zero_std", "step_time"]
            print("last step:        " + keys.compactMap { k in last[k]?.doubleValue.map { "\(k)=\(String(format: "%.4g", $0))" } }.joined(separator: " "))
        }
        if let errors = s.graderErrors, !errors.isEmpty {
            print("grader errors:    \(errors.total) samples failed grading (\(errors.countsText))")
            for (type, entry) in errors.byType.sorted(by: { ($0.value.count, $1.key) > ($1.value.count, $0.key) }) {
                print("  \(type) ×\(entry.count)")
                for m in entry.examples { print("    " + GraderErrorTally.firstLine(m)) }
            }
        }
        print("checkpoints:")
        for c in s.checkpoints { print("  \(c)") }
        if let b = s.bestCheckpoint { print("  \(b)  (best)") }
        if let f = s.finalCheckpoint { print("  \(f)  (final)") }
        let warnings = dir.readLines("metrics.jsonl").flatMap { line in
            (line["warnings"]?.arrayValue ?? []).map { (line["step"]?.doubleValue ?? 0, $0) }
        }
        if !warnings.isEmpty {
            print("warnings:")
            for (step, w) in warnings.suffix(10) {
                print("  step \(Int(step)) \(w["kind"]?.stringValue ?? ""): \(w["message"]?.stringValue ?? "")")
            }
        }
        let held = s.testSplits.map { " \($0.name)_baseline.json \($0.name)_final.json" }.joined()
        print("files:            config.json metrics.jsonl samples.jsonl summary.json baseline.json final_eval.json\(held) train.log")
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
