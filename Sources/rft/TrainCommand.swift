import ArgumentParser
import Foundation
import GRPOTrainer
import RunReports

/// `rft train`: GRPO with sandboxed graders.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a policy with GRPO (or Dr. GRPO / DAPO) on prompts graded by sandboxed graders.",
        discussion: """
        The config (JSON or YAML) names the data, the model, the rewards and the hyperparameters;
        see docs/TRAINING.md for every field, its default and its range. Overrides after the config
        are key=value pairs: a hyperparameter name or a dotted path.

        The run directory gets config.json, metrics.jsonl, samples.jsonl, summary.json,
        baseline.json, final_eval.json, TensorBoard events, checkpoints/ and report.html.
        Ctrl-C (or SIGTERM) saves a checkpoint and stops; continue with --resume.

        Grader errors are counted by type on the progress line, in summary.json, rft runs show and the
        report. When more than max_grader_error_rate (default 0.5) of the samples graded over the last
        grader_error_window (5) steps, or of the baseline's, failed grading, the run stops as Failed
        with the first error messages and exit status 1.

        model.preset (or model.config, or model.checkpoint); max_completion_length defaults to 256, or
        half the model's context when that is less:
        \(presetLines)

        Examples:
          rft train --config grpo.yaml
          rft train --config grpo.json learning_rate=5e-6 num_generations=16 output_dir=runs/lr5e-6
          rft train --resume runs/lr5e-6
        """
    )

    @Option(help: "Training config (JSON or YAML).") var config: String?
    @Option(help: "Continue the run in this directory from its latest checkpoint.") var resume: String?
    @Flag(help: "No progress line (metrics still go to the run directory).") var quiet = false
    @Argument(help: "Overrides: key=value (e.g. learning_rate=1e-5 data.train=other.jsonl).") var overrides: [String] = []

    func validate() throws {
        if (config == nil) == (resume == nil) { throw ValidationError("give either --config FILE or --resume RUN_DIR") }
    }

    @OptionGroup var degraded: DegradedModeOption

    @OptionGroup var threads: ThreadsOption

    func run() throws {
        beginLongRun(threads: threads, degraded: degraded)
        let cfg: TrainConfig
        do {
            if let resume {
                let path = URL(fileURLWithPath: resume).appendingPathComponent("config.json").path
                cfg = try TrainConfig.load(path: path, overrides: overrides)
            } else {
                cfg = try TrainConfig.load(path: config!, overrides: overrides)
            }
        } catch {
            printError("\(error)"); throw ExitCode(2)
        }
        do {
            let summary = try TrainingRun(config: cfg, quiet: quiet).start(resume: resume != nil)
            if summary.status == .failed { throw ExitCode(1) }
        } catch let e as ExitCode { throw e } catch {
            printError("\(error)"); throw ExitCode(1)
        }
    }
}

/// One training run from the CLI: data, policy, scorer, signals, progress, and the report at the end.
struct TrainingRun {
    var config: TrainConfig
    var quiet = false
    var policyOverride: TransformerPolicy? = nil
    var header = true

    @discardableResult
    func start(resume: Bool) throws -> RunSummary {
        let (train, val, tests) = try TrainingSetup.data(config)
        if header {
            let held = tests.map { ", \($0.records.count) \($0.name) prompts" }.joined()
            print("rft train: \(train.count) train prompts, \(val.count) validation prompts\(held) → \(config.outputDir)")
            if train.count < PromptDataset.recommendedRange.lowerBound || train.count > PromptDataset.recommendedRange.upperBound {
                print("note: Bedrock accepts 100 to 20,000 prompts (\(train.count) given)")
            }
        }
        let policy = try policyOverride ?? TrainingSetup.policy(config.model, hyperparameters: config.hyperparameters)
        var config = self.config
        TrainingSetup.fitCompletionLength(&config.hyperparameters, maxSeqLen: policy.model.config.maxSeqLen)
        let scorer = try TrainingSetup.scorer(config.rewards)
        defer { scorer.shutdown() }
        let trainer = try Trainer(config: config, policy: policy, scorer: scorer, train: train, validation: val, tests: tests)
        let progress = quiet ? nil : ProgressDisplay(total: trainer.totalSteps)
        trainer.progress = progress
        if quiet { trainer.say = { print($0) } }
        let signals = StopSignals(flag: trainer.stop) { progress?.log($0) ?? print($0) }
        defer { signals.restore() }
        let summary: RunSummary
        do { summary = try trainer.run(resume: resume) } catch {
            // A failed run still gets its report (with the error in a red banner) and a run line.
            if let url = try? ReportBuilder(runDirectory: trainer.runDirectory.url).writeHTML() { print("report: \(url.path)") }
            print("run: \(trainer.runDirectory.path) (\(RunStatus.failed.rawValue) at step \(trainer.summary.steps)/\(trainer.summary.totalSteps))")
            throw error
        }
        if let url = try? ReportBuilder(runDirectory: trainer.runDirectory.url).writeHTML() {
            print("report: \(url.path)")
        }
        print("run: \(trainer.runDirectory.path) (\(summary.status.rawValue), \(summary.steps)/\(summary.totalSteps) steps; "
              + "baseline val \(rewardText(summary.baselineValReward)) → final val \(rewardText(summary.finalValReward)), "
              + "best \(rewardText(summary.bestValReward)) at \(summary.bestCheckpoint ?? "-"))")
        for t in summary.testSplits {
            print("\(t.name) (held out, \(t.prompts) prompts): baseline \(rewardText(t.baselineReward)) → final \(rewardText(t.finalReward))")
        }
        if let errors = summary.graderErrors, !errors.isEmpty {
            print("grader errors: \(errors.countsText) (see rft runs show \(trainer.runDirectory.path))")
        }
        return summary
    }
}

/// SIGINT / SIGTERM set the trainer's stop flag (checkpoint and stop after the current step);
/// a second SIGINT exits at once.
final class StopSignals {
    private var sources: [DispatchSourceSignal] = []

    init(flag: StopFlag, say: @escaping (String) -> Void) {
        var count = 0
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                count += 1
                if count > 1 && sig == SIGINT { say("interrupted again: exiting without a checkpoint"); exit(130) }
                say("\(sig == SIGINT ? "SIGINT" : "SIGTERM"): stopping after this step and saving a checkpoint (Ctrl-C again to abort)")
                flag.set()
            }
            s.resume()
            sources.append(s)
        }
    }

    func restore() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
    }
}
