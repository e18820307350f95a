import Foundation
import JSON
import GraderRuntime
import struct RunReports.StepMetrics

extension Rollouts {
    /// Samples whose grading failed.
    var failedCount: Int { outcomes.values.reduce(0) { $0 + ($1.error == nil ? 0 : 1) } }
}

extension Trainer {
    /// The step's metrics from what it sampled and how the update went (`validation` and
    /// `warnings` are filled in later in the step).
    func measure(_ r: Rollouts, _ u: UpdateResult, step: Int, seconds stepTime: Double) -> StepMetrics {
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        func std(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : Advantages.std(xs) }
        var m = StepMetrics(step: step, epoch: state.epoch, time: Date().timeIntervalSince1970, numTokens: state.numTokens)
        // Rewards over everything sampled (what the model produced this step).
        let all = r.groups.flatMap { rewards(of: $0, r.outcomes) }
        let valid = all.compactMap { $0 }
        m.reward = mean(valid)
        m.rewardStd = std(valid)
        var names = scorer.graderNames
        if hyperparameters.overlongShaping != nil { names.append("overlong") }
        for name in names {
            let xs = r.groups.flatMap { g in g.ids.compactMap { id -> Double? in
                name == "overlong" ? overlong(g, id) : r.outcomes[id]?.components[name] } }
            m.rewards[name] = StepMetrics.RewardStats(mean: mean(xs), std: std(xs))
        }
        m.fracRewardZeroStd = Advantages.fracZeroStd(rewards: all, groupSize: hyperparameters.numGenerations)

        let lengths = r.groups.flatMap { $0.completions.map { Double($0.tokens.count) } }
        let truncated = r.groups.reduce(0) { $0 + $1.completions.filter(\.truncated).count }
        m.completionsMeanLength = mean(lengths)
        m.completionsMinLength = lengths.min()
        m.completionsMaxLength = lengths.max()
        m.completionsClippedRatio = lengths.isEmpty ? 0 : Double(truncated) / Double(lengths.count)

        m.kl = u.loss?.kl ?? 0
        m.loss = u.loss?.loss
        m.entropy = u.entropy
        m.clipRatioLowMean = u.clipLow
        m.clipRatioHighMean = u.clipHigh
        m.clipRatioRegionMean = u.clipRegion
        m.gradNorm = u.gradNorm
        m.learningRate = u.learningRate

        m.tokensPerS = Double(r.promptTokens + r.sampledTokens) / max(stepTime, 1e-9)
        m.samplingTokensPerS = Double(r.sampledTokens) / max(r.samplingSeconds, 1e-9)
        m.stepTime = stepTime
        m.timingSamplingS = r.samplingSeconds
        m.timingGradingWaitS = max(0, r.gradingWaitSeconds)
        m.timingUpdateS = u.seconds

        let latencies = r.latenciesMs.sorted()
        m.graderLatencyMsMean = mean(latencies)
        m.graderLatencyMsP99 = latencies.isEmpty ? nil : latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        var abstained = 0
        for o in r.outcomes.values {
            if let e = o.error { m.graderErrors[e.type.rawValue, default: 0] += 1 } else if o.reward == nil { abstained += 1 }
        }
        if abstained > 0 { m.graderAbstained = abstained }
        if hyperparameters.dynamicSampling {
            m.dynamicSamplingGroupsSampled = r.groups.count
            m.dynamicSamplingGroupsKept = r.kept.count
        }
        return m
    }

    /// Adds the step's grading failures to the summary's tally, and says so for error kinds not seen before.
    func tallyGraderErrors(_ r: Rollouts, step: Int) {
        var stepTally = GraderErrorTally()
        for id in r.groups.flatMap(\.ids) { if let e = r.outcomes[id]?.error { stepTally.add(e) } }
        guard !stepTally.isEmpty else { return }
        let known = summary.graderErrors?.byType ?? [:]
        for line in stepTally.summaryLines where known[String(line.prefix { $0 != " " })] == nil {
            tell("grader error at step \(step) (\(r.failedCount) of \(r.outcomes.count) samples failed): \(line)")
        }
        var total = summary.graderErrors ?? GraderErrorTally()
        total.merge(stepTally)
        summary.graderErrors = total
    }

    /// Shows the step to the training monitor; returns its warnings (nil: none), told and logged.
    func monitorWarnings(_ m: StepMetrics, _ r: Rollouts) -> [StepMetrics.Warning]? {
        let valid = r.groups.flatMap { rewards(of: $0, r.outcomes) }.compactMap { $0 }
        let observation = StepObservation(step: m.step, reward: finite(m.reward), rewardStd: finite(m.rewardStd),
                                          allRewardsZero: !valid.isEmpty && valid.allSatisfy { $0 == 0 },
                                          graderErrorRate: r.outcomes.isEmpty ? 0 : Double(r.failedCount) / Double(r.outcomes.count),
                                          valReward: m.validation?.reward)
        let warnings = monitor.observe(observation)
        guard !warnings.isEmpty else { return nil }
        for w in warnings {
            tell("warning [\(w.kind.rawValue)] \(w.message)")
            runDirectory.log("step \(m.step) warning [\(w.kind.rawValue)] \(w.message)")
        }
        return warnings.map { StepMetrics.Warning(kind: $0.kind.rawValue, message: $0.message) }
    }

    /// Writes the step: a line of `metrics.jsonl`, its samples to `samples.jsonl` (every
    /// `log_samples_interval` steps, the first and the last), TensorBoard scalars, the progress
    /// line and `onStep`.
    func record(_ m: StepMetrics, _ r: Rollouts, _ u: UpdateResult) throws {
        let line = try JSONValue.parse(Array(JSONEncoder().encode(m)))
        try runDirectory.append([line], to: "metrics.jsonl")
        if m.step % hyperparameters.logSamplesInterval == 0 || m.step == 1 || m.step == totalSteps {
            try runDirectory.append(r.groups.flatMap { g in g.ids.indices.map { sampleLine(m.step, g, $0, r.outcomes[g.ids[$0]]) } },
                                    to: "samples.jsonl")
        }
        var scalars: [String: Double] = [:]
        let unplotted: Set = [StepMetrics.CodingKeys.step.rawValue, StepMetrics.CodingKeys.time.rawValue]
        for (key, value) in line.objectValue ?? [:] where !unplotted.contains(key) { scalars[key] = value.doubleValue }
        tensorboard?.add(scalars: scalars, step: m.step)
        progress?.update(step: m.step, reward: finite(m.reward), valReward: m.validation?.reward, kl: u.loss?.kl,
                         graderErrors: m.graderErrors, graded: r.outcomes.count)
        onStep?(line)
    }

    private func sampleLine(_ step: Int, _ g: RolloutGroup, _ k: Int, _ o: RewardOutcome?) -> JSONValue {
        var components: JSONObject = [:]
        for (n, v) in o?.components ?? [:] { components[n] = .num(v) }
        if let ov = overlong(g, g.ids[k]) { components["overlong"] = .num(ov) }
        var error: JSONValue = .null
        if let e = o?.error { error = ["type": .string(e.type.rawValue), "message": .string(e.message)] }
        return ["step": .number(Double(step)), "prompt_id": .string(g.record.id), "prompt": .string(g.record.lastUserText),
                "completion": .string(g.texts[k]), "reward": .num(rewards(of: g, o.map { [g.ids[k]: $0] } ?? [:])[k]),
                "rewards": .object(components), "error": error, "truncated": .bool(g.completions[k].truncated)]
    }
}

/// The value when it is a finite number (what `metrics.jsonl` shows as a number), else nil.
func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
