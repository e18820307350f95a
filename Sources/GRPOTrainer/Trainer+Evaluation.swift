import Foundation
import JSON
import GraderRuntime
import struct RunReports.StepMetrics

extension Trainer {
    /// Evaluates the current policy on the validation prompts (or on `records`).
    public func evaluate(tag: String, records given: [PromptRecord]? = nil) throws -> EvalReport {
        var records = given ?? validation
        if given == nil, let cap = hyperparameters.evalMaxPrompts { records = Array(records.prefix(cap)) }
        let evaluator = Evaluator(scorer: scorer, passThreshold: hyperparameters.passThreshold,
                                  maxErrorRate: hyperparameters.maxGraderErrorRate)
        let maxNew = hyperparameters.maxCompletionLength, topP = hyperparameters.topP, topK = hyperparameters.topK
        return try evaluator.evaluate(records, sampler: { [policy, self] rs, n, temperature, seed in
            let s = SamplingSettings(temperature: temperature, topP: topP, topK: topK, maxNewTokens: maxNew)
            return try policy.sampleTexts(prompts: rs.map(self.promptTokens), count: n, settings: s, seed: seed)
        }, temperature: hyperparameters.evalTemperature, passK: hyperparameters.evalPassK,
           passKTemperature: hyperparameters.temperature, seed: UInt64(hyperparameters.seed) &+ 7_777, tag: tag)
    }

    /// Validates every `eval_interval` steps and at the last step (which also writes
    /// `final_eval.json`); nil on other steps or without validation prompts.
    func evaluateIfDue(step: Int) throws -> StepMetrics.Validation? {
        guard step % hyperparameters.evalInterval == 0 || step == totalSteps, !validation.isEmpty else { return nil }
        let report = try evaluate(tag: "val\(step)")
        if step == totalSteps { try runDirectory.writeJSON(JSONValue.from(report), to: "final_eval.json") }
        var result = StepMetrics.Validation(reward: report.meanReward, passRate: report.passRate)
        if let p = report.passAtK, let k = report.k { result.passAtK = (k, p) }
        return result
    }

    /// The validation reward before training, into `baseline.json` and the summary.
    /// - Throws: `TrainerError.graderErrorRate` when more than `max_grader_error_rate` of its samples failed.
    func evaluateBaseline() throws {
        let report = try evaluate(tag: "baseline")
        try runDirectory.writeJSON(JSONValue.from(report), to: "baseline.json")
        state.baselineValReward = report.meanReward
        summary.baselineValReward = report.meanReward
        tell("baseline validation reward: \(rewardString(report.meanReward)) (\(report.prompts) prompts)")
        let failed = report.errors.values.reduce(0, +)
        if failed > 0 {
            let tally = GraderErrorTally(counts: report.errors, examples: report.errorExamples)
            summary.graderErrors = tally
            tell("warning: grading failed on \(failed) of \(report.samples) baseline samples: \(tally.countsText)")
            for line in tally.summaryLines { tell("  \(line)") }
            try runDirectory.writeSummary(summary)
            let rate = Double(failed) / Double(max(report.samples, 1))
            if rate > hyperparameters.maxGraderErrorRate {
                throw TrainerError.graderErrorRate(rate: rate, errors: failed, samples: report.samples, during: "the baseline evaluation",
                                                   threshold: hyperparameters.maxGraderErrorRate, tally: tally)
            }
        }
        try runDirectory.writeSummary(summary)
    }

    /// Evaluates every test split (before training, or at the end) into `<name>_baseline.json` or
    /// `<name>_final.json` and the summary.
    func evaluateTests(final: Bool) throws {
        guard !tests.isEmpty else { return }
        if summary.testSplits.map(\.name) != tests.map(\.name) {
            summary.testSplits = tests.map { TestSplitRewards(name: $0.name, prompts: $0.records.count) }
        }
        for (i, split) in tests.enumerated() {
            let report = try evaluate(tag: "\(split.name)-\(final ? "final" : "baseline")", records: split.records)
            try runDirectory.writeJSON(JSONValue.from(report), to: "\(split.name)_\(final ? "final" : "baseline").json")
            if final {
                summary.testSplits[i].finalReward = report.meanReward; summary.testSplits[i].finalStderr = report.standardError
            } else {
                summary.testSplits[i].baselineReward = report.meanReward; summary.testSplits[i].baselineStderr = report.standardError
            }
            let failed = report.errors.values.reduce(0, +)
            tell("\(final ? "final" : "baseline") \(split.name) reward: \(rewardString(report.meanReward)) (\(report.prompts) prompts, held out)"
                 + (failed > 0 ? "; grading failed on \(failed) of \(report.samples) samples" : ""))
        }
        try runDirectory.writeSummary(summary)
    }
}
