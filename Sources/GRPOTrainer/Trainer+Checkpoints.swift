import Foundation
import struct RunReports.StepMetrics

extension Trainer {
    /// Saves `best` when this step's validation reward beats every earlier one, and a step
    /// checkpoint every `save_interval` steps (not at the last step, which saves `final`).
    func checkpointIfDue(step: Int, validation: StepMetrics.Validation?) throws {
        if let v = validation?.reward, v > (state.bestValReward ?? -.infinity) {
            state.bestValReward = v
            state.bestCheckpoint = CheckpointStore.Name.best.relativePath
            try saveCheckpoint(.best)
        }
        if hyperparameters.saveInterval > 0, step % hyperparameters.saveInterval == 0, step < totalSteps {
            try saveCheckpoint(.step(step))
        }
    }

    /// Saves a checkpoint of the current state; step checkpoints are listed in the summary.
    func saveCheckpoint(_ name: CheckpointStore.Name) throws {
        let path: String
        if case .step = name {
            path = try checkpoints.saveStep(policy: policy, state: state, kept: &summary.checkpoints)
        } else {
            path = try checkpoints.save(name, policy: policy, state: state)
        }
        runDirectory.log("step \(state.step): saved \(path)")
    }

    /// Restores the checkpoint with the most steps (any of step-*, best, final), or starts
    /// afresh when there is none yet.
    func restoreLatest() throws {
        summary = (try? runDirectory.readSummary()) ?? RunSummary(totalSteps: totalSteps)
        summary.status = .inProgress
        summary.pid = ProcessInfo.processInfo.processIdentifier
        summary.error = nil
        summary.totalSteps = totalSteps
        summary.modelThreads = (policy as? TransformerPolicy)?.model.threads
        guard let (name, restored) = checkpoints.latest() else {
            tell("no checkpoint yet: restarting from step 0")
            state = TrainerState(seed: hyperparameters.seed)
            try start()
            return
        }
        try policy.restore(from: checkpoints.url(name))
        state = restored
        tell("resuming from checkpoints/\(name) at step \(restored.step)")
        summary.steps = state.step
        summary.checkpoints = summary.checkpoints.filter { FileManager.default.fileExists(atPath: runDirectory.file($0).path) }
        summary.baselineValReward = state.baselineValReward
        try runDirectory.truncate("metrics.jsonl", afterStep: state.step)
        try runDirectory.truncate("samples.jsonl", afterStep: state.step)
        try runDirectory.writeSummary(summary)
        runDirectory.log("resume at step \(state.step)")
    }
}
