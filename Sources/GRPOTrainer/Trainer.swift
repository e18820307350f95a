import Foundation
import GraderRuntime
import JSON
import RunReports
import TransformerModel

/// The embedded GRPO loop: sample G completions per prompt, grade them in the background while
/// the next group samples, compute group-relative advantages, and update the policy.
///
/// ```swift
/// let trainer = try Trainer(config: config, policy: policy, scorer: scorer,
///                           train: trainRecords, validation: valRecords)
/// let summary = try trainer.run()            // or trainer.run(resume: true)
/// ```
/// The run directory gets `config.json`, `metrics.jsonl`, `samples.jsonl`, `summary.json`,
/// `baseline.json`, `final_eval.json`, TensorBoard events and `checkpoints/`.
public final class Trainer {
    public let config: TrainConfig
    public let policy: GRPOPolicy
    public let reference: GRPOPolicy?
    public let scorer: Scorer
    public let train: [PromptRecord]
    public let validation: [PromptRecord]
    /// Held-out splits, evaluated before and after training only: never used to choose a checkpoint.
    public let tests: [TestSplit]
    /// Where the run's files go (`output_dir`).
    public let runDirectory: RunDirectory
    /// The run's checkpoints under `checkpoints/`.
    public let checkpoints: CheckpointStore
    /// `config.hyperparameters`.
    public var hyperparameters: Hyperparameters { config.hyperparameters }
    /// Live progress on stdout (nil: quiet).
    public var progress: ProgressDisplay?
    /// Prints one-off messages (warnings, checkpoints); defaults to the progress display or stdout.
    public var say: ((String) -> Void)?
    /// Called after every step with the metrics line (tests, the demo).
    public var onStep: ((JSONValue) -> Void)?
    /// Set (e.g. from a signal handler) to checkpoint and stop after the current step.
    public let stop = StopFlag()

    public internal(set) var state: TrainerState
    public internal(set) var summary: RunSummary
    var monitor: TrainingMonitor
    var tensorboard: TensorBoardWriter?
    /// The data order of the current epoch, by epoch.
    var orders: [Int: [Int]] = [:]
    /// (failed, graded) samples of the most recent steps, for `max_grader_error_rate`.
    private var errorWindow: [(step: Int, errors: Int, samples: Int)] = []

    public init(config: TrainConfig, policy: GRPOPolicy, scorer: Scorer,
                train: [PromptRecord], validation: [PromptRecord], tests: [TestSplit] = []) throws {
        guard !train.isEmpty else {
            throw DataIssue(file: config.trainData, line: nil, field: nil, message: "no training prompts", severity: .error)
        }
        self.config = config; self.policy = policy; self.scorer = scorer
        self.train = train; self.validation = validation; self.tests = tests
        self.runDirectory = RunDirectory(config.outputDir)
        self.checkpoints = CheckpointStore(run: runDirectory, keepLast: config.hyperparameters.keepLast)
        // The frozen reference is the starting model (taken before any resume restores a checkpoint).
        self.reference = config.hyperparameters.beta > 0 ? try policy.frozenCopy() : nil
        self.state = TrainerState(seed: config.hyperparameters.seed)
        self.monitor = TrainingMonitor(window: max(5, min(20, config.hyperparameters.evalInterval)),
                                       errorThreshold: config.hyperparameters.graderErrorThreshold)
        self.summary = RunSummary(totalSteps: 0)
        summary.totalSteps = totalSteps
    }

    /// Optimizer steps the run will take: `max_steps`, or epochs × ⌈prompts / batch_size⌉.
    public var totalSteps: Int {
        let h = hyperparameters
        return h.maxSteps ?? h.epochs * ((train.count + h.batchSize - 1) / h.batchSize)
    }

    // MARK: - Run

    /// Trains to the end (or until `stop` is set). With `resume`, continues from the run
    /// directory's latest checkpoint: same parameters, optimizer state, RNG and data order.
    @discardableResult
    public func run(resume: Bool = false) throws -> RunSummary {
        try runDirectory.create()
        if resume, runDirectory.exists { try restoreLatest() } else { try start() }
        do {
            if let tb = try? TensorBoardWriter(directory: runDirectory.url) { tensorboard = tb }
            defer { tensorboard?.close() }
            if state.baselineValReward == nil, !validation.isEmpty, state.step == 0 { try evaluateBaseline() }
            if state.step == 0, summary.testSplits.contains(where: { $0.baselineReward == nil }) || summary.testSplits.isEmpty {
                try evaluateTests(final: false)
            }
            while state.step < totalSteps {
                if stop.isSet { return try stopCleanly() }
                try step()
            }
            return try finish()
        } catch {
            progress?.finish()
            summary.status = .failed
            summary.error = "\(error)"
            try? runDirectory.writeSummary(summary)
            runDirectory.log("failed: \(error)")
            throw error
        }
    }

    func start() throws {
        try runDirectory.writeJSON(config.resolvedJSON, to: "config.json")
        for f in ["metrics.jsonl", "samples.jsonl"] { try? FileManager.default.removeItem(at: runDirectory.file(f)) }
        summary = RunSummary(totalSteps: totalSteps)
        summary.modelThreads = (policy as? TransformerPolicy)?.model.threads
        try runDirectory.writeSummary(summary)
        runDirectory.log("start: \(train.count) train prompts, \(validation.count) validation prompts, \(totalSteps) steps")
    }

    // MARK: - One step

    /// One optimizer step: sample and grade, update the policy, log what happened, then validate
    /// and checkpoint when due.
    private func step() throws {
        let stepNumber = state.step + 1
        let started = now()
        let rollouts = try collectRollouts(step: stepNumber)
        let update = try self.update(rollouts)
        state.step = stepNumber
        state.numTokens += rollouts.promptTokens + rollouts.sampledTokens
        var metrics = measure(rollouts, update, step: stepNumber, seconds: now() - started)
        tallyGraderErrors(rollouts, step: stepNumber)
        metrics.validation = try evaluateIfDue(step: stepNumber)
        metrics.warnings = monitorWarnings(metrics, rollouts)
        try record(metrics, rollouts, update)
        try checkpointIfDue(step: stepNumber, validation: metrics.validation)
        summary.steps = stepNumber
        summary.epoch = state.epoch
        summary.bestValReward = state.bestValReward
        summary.bestCheckpoint = state.bestCheckpoint
        try runDirectory.writeSummary(summary)
        try checkErrorRate(step: stepNumber, errors: rollouts.failedCount, samples: rollouts.outcomes.count)
    }

    /// Fails the run when more than `max_grader_error_rate` of the samples graded over the last
    /// `grader_error_window` steps failed (over fewer steps when the run ends sooner).
    private func checkErrorRate(step: Int, errors: Int, samples: Int) throws {
        let h = hyperparameters
        errorWindow.append((step, errors, samples))
        if errorWindow.count > h.graderErrorWindow { errorWindow.removeFirst(errorWindow.count - h.graderErrorWindow) }
        guard errorWindow.count >= h.graderErrorWindow || step >= totalSteps else { return }
        let failed = errorWindow.reduce(0) { $0 + $1.errors }, graded = errorWindow.reduce(0) { $0 + $1.samples }
        guard graded > 0 else { return }
        let rate = Double(failed) / Double(graded)
        guard rate > h.maxGraderErrorRate else { return }
        let first = errorWindow.first!.step
        throw TrainerError.graderErrorRate(rate: rate, errors: failed, samples: graded,
                                           during: first == step ? "step \(step)" : "steps \(first)-\(step)",
                                           threshold: h.maxGraderErrorRate, tally: summary.graderErrors ?? GraderErrorTally())
    }

    // MARK: - End of a run

    private func stopCleanly() throws -> RunSummary {
        try saveCheckpoint(.step(state.step))
        progress?.finish()
        summary.status = .stopped
        summary.steps = state.step
        try runDirectory.writeSummary(summary)
        runDirectory.log("stopped at step \(state.step) on request")
        tell("stopped at step \(state.step); checkpoint saved. Continue with: rft train --resume \(runDirectory.path)")
        return summary
    }

    private func finish() throws -> RunSummary {
        progress?.finish()
        try saveCheckpoint(.final)
        summary.finalCheckpoint = CheckpointStore.Name.final.relativePath
        if let final = runDirectory.readJSON("final_eval.json") {
            summary.finalValReward = final["mean_reward"]?.doubleValue
        } else if !validation.isEmpty {
            let report = try evaluate(tag: "final")
            try runDirectory.writeJSON(JSONValue.from(report), to: "final_eval.json")
            summary.finalValReward = report.meanReward
        }
        try evaluateTests(final: true)
        summary.status = .completed
        summary.steps = state.step
        summary.bestValReward = state.bestValReward
        summary.bestCheckpoint = state.bestCheckpoint
        try runDirectory.writeSummary(summary)
        runDirectory.log("completed \(state.step) steps")
        return summary
    }

    func tell(_ s: String) {
        if let say { say(s) } else if let progress { progress.log(s) } else { print(s) }
    }
}

/// A held-out split of prompts (`data.test`): evaluated before and after training, never used to
/// choose a checkpoint or a setting.
public struct TestSplit: Sendable {
    public var name: String
    public var records: [PromptRecord]
    public init(name: String, records: [PromptRecord]) { self.name = name; self.records = records }
}

/// Why a run stopped with an error.
public enum TrainerError: Error, CustomStringConvertible {
    /// A grader with `on_error: fail` failed on a sample.
    case graderFailed(sampleID: String, error: GraderError)
    /// More than `max_grader_error_rate` of the samples failed grading (over the window, or the baseline).
    case graderErrorRate(rate: Double, errors: Int, samples: Int, during: String, threshold: Double, tally: GraderErrorTally)

    public var description: String {
        switch self {
        case .graderFailed(let id, let e):
            return "grader failed on sample \(id) (\(e.type.rawValue): \(e.message)) and its manifest says on_error: fail"
        case .graderErrorRate(let rate, let errors, let samples, let during, let threshold, let tally):
            var s = "grading failed on \(pct(rate)) of samples (\(errors) of \(samples)) during \(during), above "
                + "max_grader_error_rate \(fmt(threshold)): fix the grader (rft grader test DIR) before training"
            for line in tally.summaryLines { s += "\n  " + line }
            return s
        }
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func rewardString(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "-" }

/// A flag set from a signal handler and read by the training loop.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    public func set() { lock.lock(); value = true; lock.unlock() }
}
