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
    public let scorer: RolloutScorer
    public let train: [PromptRecord]
    public let validation: [PromptRecord]
    /// Held-out splits, evaluated before and after training only: never used to choose a checkpoint.
    public let tests: [TestSplit]
    public let run: RunDirectory
    public var h: Hyperparameters { config.hyperparameters }
    /// Live progress on stdout (nil: quiet).
    public var progress: ProgressDisplay?
    /// Prints one-off messages (warnings, checkpoints); defaults to the progress display or stdout.
    public var say: ((String) -> Void)?
    /// Called after every step with the metrics line (tests, the demo).
    public var onStep: ((JSONValue) -> Void)?
    /// Set (e.g. from a signal handler) to checkpoint and stop after the current step.
    public let stop = StopFlag()

    public private(set) var state: TrainerState
    public private(set) var summary: RunSummary
    private var monitor: TrainingMonitor
    private var tensorboard: TensorBoardWriter?
    private var orders: [Int: [Int]] = [:]
    /// (failed, graded) samples of the most recent steps, for `max_grader_error_rate`.
    private var errorWindow: [(step: Int, errors: Int, samples: Int)] = []

    public init(config: TrainConfig, policy: GRPOPolicy, scorer: RolloutScorer,
                train: [PromptRecord], validation: [PromptRecord], tests: [TestSplit] = []) throws {
        guard !train.isEmpty else {
            throw DataIssue(file: config.trainData, line: nil, field: nil, message: "no training prompts", severity: .error)
        }
        self.config = config; self.policy = policy; self.scorer = scorer
        self.train = train; self.validation = validation; self.tests = tests
        self.run = RunDirectory(config.outputDir)
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
        h.maxSteps ?? h.epochs * ((train.count + h.batchSize - 1) / h.batchSize)
    }

    // MARK: - Run

    /// Trains to the end (or until `stop` is set). With `resume`, continues from the run
    /// directory's latest checkpoint: same parameters, optimizer state, RNG and data order.
    @discardableResult
    public func run(resume: Bool = false) throws -> RunSummary {
        try run.create()
        if resume, run.exists { try restoreLatest() } else { try start() }
        do {
            if let tb = try? TensorBoardWriter(directory: run.url) { tensorboard = tb }
            defer { tensorboard?.close() }
            if state.baselineValReward == nil, !validation.isEmpty, state.step == 0 {
                let report = try evaluate(tag: "baseline")
                try run.writeJSON(JSONValue.from(report), to: "baseline.json")
                state.baselineValReward = report.meanReward
                summary.baselineValReward = report.meanReward
                tell("baseline validation reward: \(rewardString(report.meanReward)) (\(report.prompts) prompts)")
                let failed = report.errors.values.reduce(0, +)
                if failed > 0 {
                    let tally = GraderErrorTally(counts: report.errors, examples: report.errorExamples)
                    summary.graderErrors = tally
                    tell("warning: grading failed on \(failed) of \(report.samples) baseline samples: \(tally.countsText)")
                    for line in tally.summaryLines { tell("  \(line)") }
                    try run.writeSummary(summary)
                    let rate = Double(failed) / Double(max(report.samples, 1))
                    if rate > h.maxGraderErrorRate {
                        throw TrainerError.graderErrorRate(rate: rate, errors: failed, samples: report.samples, during: "the baseline evaluation",
                                                           threshold: h.maxGraderErrorRate, tally: tally)
                    }
                }
                try run.writeSummary(summary)
            }
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
            try? run.writeSummary(summary)
            run.log("failed: \(error)")
            throw error
        }
    }

    private func start() throws {
        try run.writeJSON(config.resolvedJSON, to: "config.json")
        for f in ["metrics.jsonl", "samples.jsonl"] { try? FileManager.default.removeItem(at: run.file(f)) }
        summary = RunSummary(totalSteps: totalSteps)
        try run.writeSummary(summary)
        run.log("start: \(train.count) train prompts, \(validation.count) validation prompts, \(totalSteps) steps")
    }

    // MARK: - One step

    struct Group {
        var record: PromptRecord
        var prompt: [Int]
        var completions: [SampledCompletion]
        var texts: [String]
        var ids: [String]
    }

    private func nextRecord() -> PromptRecord {
        if state.position >= train.count { state.epoch += 1; state.position = 0 }
        let order = orders[state.epoch] ?? {
            var r = TrainerRNG(seed: UInt64(h.seed) &+ UInt64(state.epoch) &* 1_000_003)
            let p = r.permutation(train.count)
            orders = [state.epoch: p]
            return p
        }()
        state.position += 1
        return train[order[state.position - 1]]
    }

    private func promptTokens(_ r: PromptRecord) -> [Int] {
        let t = policy.encodePrompt(r.messages)
        return t.count > h.maxPromptLength ? Array(t.suffix(h.maxPromptLength)) : t
    }

    private func step() throws {
        let stepNumber = state.step + 1
        let t0 = now()
        let settings = SamplingSettings(temperature: h.temperature, topP: h.topP, topK: h.topK, maxNewTokens: h.maxCompletionLength)
        let queue = GradingQueue(scorer: scorer)
        var groups: [Group] = []
        var outcomes: [String: RewardOutcome] = [:]
        var latencies: [Double] = []
        var samplingTime = 0.0, sampledTokens = 0
        var need = h.batchSize, rounds = 0
        var kept: [Int] = []
        while true {
            let ts = now()
            var left = need
            while left > 0 {
                let n = min(left, h.samplingChunk)
                left -= n
                let records = (0..<n).map { _ in nextRecord() }
                let prompts = records.map(promptTokens)
                let sampled = try policy.sample(prompts: prompts, count: h.numGenerations, settings: settings, seed: state.rng.next())
                var requests: [GradingRequest] = []
                for (j, record) in records.enumerated() {
                    let comps = sampled[j]
                    let gi = groups.count
                    let texts = comps.map { policy.decode($0.tokens) }
                    let ids = (0..<comps.count).map { "\(record.id)#\(stepNumber).\(gi).\($0)" }
                    sampledTokens += comps.reduce(0) { $0 + $1.tokens.count }
                    requests += zip(ids, texts).map { GradingRequest(id: $0, record: record, completion: $1) }
                    groups.append(Group(record: record, prompt: prompts[j], completions: comps, texts: texts, ids: ids))
                }
                // Graders score this chunk on the other core while the next chunk samples.
                queue.submit(requests)
            }
            samplingTime += now() - ts
            let c = queue.collect()
            if let bad = c.outcomes.values.first(where: \.fatal) {
                throw TrainerError.graderFailed(sampleID: bad.id, error: bad.error ?? GradingFailure(type: "crash", message: "unknown"))
            }
            outcomes.merge(c.outcomes) { a, _ in a }
            latencies += c.latenciesMs
            guard h.dynamicSampling else { kept = Array(groups.indices); break }
            kept = groups.indices.filter { !Advantages.hasZeroStd(rewards(of: groups[$0], outcomes)[...]) }
            rounds += 1
            if kept.count >= h.batchSize || rounds > h.dynamicSamplingMaxRounds { kept = Array(kept.prefix(h.batchSize)); break }
            need = h.batchSize - kept.count
        }
        let gradeWait = now() - t0 - samplingTime

        // Rewards over everything sampled (what the model produced this step).
        let allRewards = groups.flatMap { rewards(of: $0, outcomes) }
        let fracZero = Advantages.fracZeroStd(rewards: allRewards, groupSize: h.numGenerations)

        // The training batch: groups with signal (all groups without dynamic sampling).
        let batchGroups = kept.map { groups[$0] }
        let batchRewards = batchGroups.flatMap { rewards(of: $0, outcomes) }
        let adv = Advantages.compute(rewards: batchRewards, groupSize: h.numGenerations, scale: h.scaleRewards)
        var seqs: [PolicySequence] = [], masks: [[Float]] = []
        var i = 0
        for g in batchGroups {
            for c in g.completions {
                seqs.append(PolicySequence(prompt: g.prompt, completion: c.tokens))
                let off = adv[i] == nil || (h.maskTruncatedCompletions && c.truncated)
                masks.append([Float](repeating: off ? 0 : 1, count: c.tokens.count))
                i += 1
            }
        }
        let tu = now()
        var lossOut: PolicyLossOutput? = nil, entropy = 0.0, gradNorm = 0.0
        var clipLow = 0.0, clipHigh = 0.0, clipRegion = 0.0
        let lr = Double(LRSchedule(peak: Float(h.learningRate), warmupSteps: h.warmupSteps, totalSteps: totalSteps,
                                   decay: h.lrScheduler).learningRate(at: state.step))
        if !seqs.isEmpty {
            // Micro-batches of sequences: exact full-batch gradient, a fraction of the activations.
            // Whole groups stay together, so each group's prompt is computed once.
            let chunks = Self.microBatches(groupSizes: batchGroups.map(\.completions.count), limit: h.microBatchSize)
            // π_old is only needed when the batch is reused (μ > 1); the reference only when β > 0.
            let old = h.numIterations > 1 ? try chunks.flatMap { try policy.logProbs(Array(seqs[$0])) } : nil
            let ref = try reference.map { r in try chunks.flatMap { try r.logProbs(Array(seqs[$0])) } }
            let settingsLoss = PolicyLossSettings(h)
            let totals = BatchTotals(masks: masks)
            for it in 0..<h.numIterations {
                var parts: [PolicyLossOutput] = []
                var entropySum = 0.0, entropyTokens = 0
                for range in chunks {
                    let pass = try policy.accumulateGradients(Array(seqs[range])) { logp in
                        let inputs = range.enumerated().map { k, j in
                            SequenceLossInput(logp: logp[k], oldLogp: old?[j], refLogp: ref?[j], mask: masks[j],
                                              advantage: Float(adv[j] ?? 0))
                        }
                        let out = PolicyLoss.compute(inputs, settings: settingsLoss, totals: totals)
                        parts.append(out)
                        return out.dLogp
                    }
                    let n = range.reduce(0) { $0 + seqs[$1].completion.count }
                    entropySum += pass.entropy * Double(n); entropyTokens += n
                }
                let out = PolicyLossOutput.merge(parts)
                if it == 0 { lossOut = out; entropy = entropyTokens > 0 ? entropySum / Double(entropyTokens) : 0 }
                clipLow += out.clipLow; clipHigh += out.clipHigh; clipRegion += out.clipRegion
                gradNorm = try policy.applyGradients(learningRate: lr)
            }
        }
        let updateTime = now() - tu
        let mu = Double(h.numIterations)
        state.step = stepNumber
        let promptTokens = groups.reduce(0) { $0 + $1.prompt.count * $1.completions.count }
        state.numTokens += promptTokens + sampledTokens
        let stepTime = now() - t0

        // Metrics (TRL/verl names).
        var m: JSONObject = ["step": .number(Double(stepNumber)), "epoch": .number(Double(state.epoch)),
                                 "time": .number(Date().timeIntervalSince1970)]
        let valid = allRewards.compactMap { $0 }
        m["reward"] = .num(valid.isEmpty ? nil : valid.reduce(0, +) / Double(valid.count))
        m["reward_std"] = .num(valid.isEmpty ? nil : Advantages.std(valid))
        var names = scorer.graderNames
        if h.overlongShaping != nil { names.append("overlong") }
        for name in names {
            let xs = groups.flatMap { g in g.ids.compactMap { id -> Double? in
                name == "overlong" ? overlong(g, id) : outcomes[id]?.components[name] } }
            m["rewards/\(name)/mean"] = .num(xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count))
            m["rewards/\(name)/std"] = .num(xs.isEmpty ? nil : Advantages.std(xs))
        }
        m["frac_reward_zero_std"] = .number(fracZero)
        let lengths = groups.flatMap { $0.completions.map { Double($0.tokens.count) } }
        m["completions/mean_length"] = .num(lengths.isEmpty ? nil : lengths.reduce(0, +) / Double(lengths.count))
        m["completions/min_length"] = .num(lengths.min())
        m["completions/max_length"] = .num(lengths.max())
        let truncated = groups.reduce(0) { $0 + $1.completions.filter(\.truncated).count }
        m["completions/clipped_ratio"] = .number(lengths.isEmpty ? 0 : Double(truncated) / Double(lengths.count))
        m["kl"] = .num(lossOut?.kl ?? 0)
        m["loss"] = .num(lossOut?.loss)
        m["entropy"] = .num(entropy)
        m["clip_ratio/low_mean"] = .number(clipLow / mu)
        m["clip_ratio/high_mean"] = .number(clipHigh / mu)
        m["clip_ratio/region_mean"] = .number(clipRegion / mu)
        m["grad_norm"] = .num(gradNorm)
        m["learning_rate"] = .number(lr)
        m["num_tokens"] = .number(Double(state.numTokens))
        m["tokens_per_s"] = .num(Double(promptTokens + sampledTokens) / max(stepTime, 1e-9))
        m["sampling_tokens_per_s"] = .num(Double(sampledTokens) / max(samplingTime, 1e-9))
        m["step_time"] = .number(stepTime)
        m["timing/sampling_s"] = .number(samplingTime)
        m["timing/grading_wait_s"] = .number(max(0, gradeWait))
        m["timing/update_s"] = .number(updateTime)
        let sortedLat = latencies.sorted()
        m["grader/latency_ms_mean"] = .num(sortedLat.isEmpty ? nil : sortedLat.reduce(0, +) / Double(sortedLat.count))
        m["grader/latency_ms_p99"] = .num(sortedLat.isEmpty ? nil : sortedLat[min(sortedLat.count - 1, Int(Double(sortedLat.count) * 0.99))])
        var errorCount = 0, abstained = 0
        var errorsByType: [String: Int] = [:]
        for o in outcomes.values {
            if let e = o.error { errorsByType[e.type, default: 0] += 1; errorCount += 1 }
            else if o.reward == nil { abstained += 1 }
        }
        for (t, n) in errorsByType { m["grader/errors/\(t)"] = .number(Double(n)) }
        var stepTally = GraderErrorTally()
        for id in groups.flatMap(\.ids) { if let e = outcomes[id]?.error { stepTally.add(e) } }
        if !stepTally.isEmpty {
            let known = summary.graderErrors?.byType ?? [:]
            for line in stepTally.summaryLines where known[String(line.prefix { $0 != " " })] == nil {
                tell("grader error at step \(stepNumber) (\(errorCount) of \(outcomes.count) samples failed): \(line)")
            }
            var total = summary.graderErrors ?? GraderErrorTally()
            total.merge(stepTally)
            summary.graderErrors = total
        }
        if abstained > 0 { m["grader/abstained"] = .number(Double(abstained)) }
        if h.dynamicSampling {
            m["dynamic_sampling/groups_sampled"] = .number(Double(groups.count))
            m["dynamic_sampling/groups_kept"] = .number(Double(kept.count))
        }

        // Validation and checkpoints.
        var valReward: Double? = nil
        if stepNumber % h.evalInterval == 0 || stepNumber == totalSteps, !validation.isEmpty {
            let report = try evaluate(tag: "val\(stepNumber)")
            valReward = report.meanReward
            m["val/reward"] = .num(report.meanReward)
            m["val/pass_rate"] = .num(report.passRate)
            if let p = report.passAtK, let k = report.k { m["val/pass@\(k)"] = .number(p) }
            if stepNumber == totalSteps { try run.writeJSON(JSONValue.from(report), to: "final_eval.json") }
            if let v = valReward, v > (state.bestValReward ?? -.infinity) {
                state.bestValReward = v
                state.bestCheckpoint = "checkpoints/best"
                try saveCheckpoint("best")
            }
        }
        let obs = StepObservation(step: stepNumber, reward: m["reward"]?.doubleValue, rewardStd: m["reward_std"]?.doubleValue,
                                  allRewardsZero: !valid.isEmpty && valid.allSatisfy { $0 == 0 },
                                  graderErrorRate: outcomes.isEmpty ? 0 : Double(errorCount) / Double(outcomes.count),
                                  valReward: valReward)
        let warnings = monitor.observe(obs)
        if !warnings.isEmpty {
            m["warnings"] = .array(warnings.map { ["kind": .string($0.kind.rawValue), "message": .string($0.message)] })
            for w in warnings {
                tell("warning [\(w.kind.rawValue)] \(w.message)")
                run.log("step \(stepNumber) warning [\(w.kind.rawValue)] \(w.message)")
            }
        }
        let line = JSONValue.object(m)
        try run.append([line], to: "metrics.jsonl")
        if stepNumber % h.logSamplesInterval == 0 || stepNumber == 1 || stepNumber == totalSteps {
            try run.append(groups.flatMap { g in g.ids.enumerated().map { k, id in sampleLine(stepNumber, g, k, outcomes[id]) } },
                           to: "samples.jsonl")
        }
        var scalars: [String: Double] = [:]
        for (key, value) in m where key != "step" && key != "time" { scalars[key] = value.doubleValue }
        tensorboard?.add(scalars: scalars, step: stepNumber)
        progress?.update(step: stepNumber, reward: m["reward"]?.doubleValue, valReward: valReward, kl: lossOut?.kl,
                         graderErrors: errorsByType, graded: outcomes.count)
        onStep?(line)

        if h.saveInterval > 0, stepNumber % h.saveInterval == 0, stepNumber < totalSteps {
            try saveCheckpoint(String(format: "step-%06d", stepNumber))
        }
        summary.steps = stepNumber
        summary.epoch = state.epoch
        summary.bestValReward = state.bestValReward
        summary.bestCheckpoint = state.bestCheckpoint
        try run.writeSummary(summary)
        try checkErrorRate(step: stepNumber, errors: errorCount, samples: outcomes.count)
    }

    /// Fails the run when more than `max_grader_error_rate` of the samples graded over the last
    /// `grader_error_window` steps failed (over fewer steps when the run ends sooner).
    private func checkErrorRate(step: Int, errors: Int, samples: Int) throws {
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

    /// Rewards of a group's completions: the graded score plus overlong shaping; nil for
    /// failed or abstained samples (left out of every statistic).
    private func rewards(of g: Group, _ outcomes: [String: RewardOutcome]) -> [Double?] {
        g.ids.map { id in
            guard let r = outcomes[id]?.reward, r.isFinite else { return nil }
            return r + (overlong(g, id) ?? 0)
        }
    }

    private func overlong(_ g: Group, _ id: String) -> Double? {
        guard let o = h.overlongShaping, let k = g.ids.firstIndex(of: id) else { return nil }
        return o.reward(length: g.completions[k].tokens.count)
    }

    private func sampleLine(_ step: Int, _ g: Group, _ k: Int, _ o: RewardOutcome?) -> JSONValue {
        var components: JSONObject = [:]
        for (n, v) in o?.components ?? [:] { components[n] = .num(v) }
        if let ov = overlong(g, g.ids[k]) { components["overlong"] = .num(ov) }
        var error: JSONValue = .null
        if let e = o?.error { error = ["type": .string(e.type), "message": .string(e.message)] }
        return ["step": .number(Double(step)), "prompt_id": .string(g.record.id), "prompt": .string(g.record.lastUserText),
                "completion": .string(g.texts[k]), "reward": .num(rewards(of: g, o.map { [g.ids[k]: $0] } ?? [:])[k]),
                "rewards": .object(components), "error": error, "truncated": .bool(g.completions[k].truncated)]
    }

    /// Ranges of sequences, at most `limit` long, made of whole consecutive groups; a group
    /// longer than `limit` is split (its prompt is then computed once per piece).
    static func microBatches(groupSizes: [Int], limit: Int) -> [Range<Int>] {
        var chunks: [Range<Int>] = [], start = 0, end = 0
        for size in groupSizes {
            if end - start + size > limit, end > start { chunks.append(start..<end); start = end }
            end += size
            while end - start > limit { chunks.append(start..<(start + limit)); start += limit }
        }
        if end > start { chunks.append(start..<end) }
        return chunks
    }

    // MARK: - Validation

    /// Evaluates the current policy on the validation prompts (or on `records`).
    public func evaluate(tag: String, records given: [PromptRecord]? = nil) throws -> EvalReport {
        var records = given ?? validation
        if given == nil, let cap = h.evalMaxPrompts { records = Array(records.prefix(cap)) }
        let evaluator = Evaluator(scorer: scorer, passThreshold: h.passThreshold, maxErrorRate: h.maxGraderErrorRate)
        let maxNew = h.maxCompletionLength, topP = h.topP, topK = h.topK
        return try evaluator.evaluate(records, sampler: { [policy, self] r, n, temperature, seed in
            let s = SamplingSettings(temperature: temperature, topP: topP, topK: topK, maxNewTokens: maxNew)
            return try policy.sample(prompts: [self.promptTokens(r)], count: n, settings: s, seed: seed)[0].map { policy.decode($0.tokens) }
        }, temperature: h.evalTemperature, passK: h.evalPassK, passKTemperature: h.temperature,
           seed: UInt64(h.seed) &+ 7_777, tag: tag)
    }

    /// Evaluates every test split (before training, or at the end) into `<name>_baseline.json` or
    /// `<name>_final.json` and the summary.
    private func evaluateTests(final: Bool) throws {
        guard !tests.isEmpty else { return }
        if summary.testSplits.map(\.name) != tests.map(\.name) {
            summary.testSplits = tests.map { TestSplitRewards(name: $0.name, prompts: $0.records.count) }
        }
        for (i, split) in tests.enumerated() {
            let report = try evaluate(tag: "\(split.name)-\(final ? "final" : "baseline")", records: split.records)
            try run.writeJSON(JSONValue.from(report), to: "\(split.name)_\(final ? "final" : "baseline").json")
            if final {
                summary.testSplits[i].finalReward = report.meanReward; summary.testSplits[i].finalStderr = report.standardError
            } else {
                summary.testSplits[i].baselineReward = report.meanReward; summary.testSplits[i].baselineStderr = report.standardError
            }
            let failed = report.errors.values.reduce(0, +)
            tell("\(final ? "final" : "baseline") \(split.name) reward: \(rewardString(report.meanReward)) (\(report.prompts) prompts, held out)"
                 + (failed > 0 ? "; grading failed on \(failed) of \(report.samples) samples" : ""))
        }
        try run.writeSummary(summary)
    }

    // MARK: - Checkpoints

    private func saveCheckpoint(_ name: String) throws {
        let final = run.checkpoint(name)
        let tmp = run.checkpoint(".tmp-\(name)")
        try? FileManager.default.removeItem(at: tmp)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        try policy.save(to: tmp)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(state).write(to: tmp.appendingPathComponent("trainer_state.json"))
        try? FileManager.default.removeItem(at: final)
        try FileManager.default.moveItem(at: tmp, to: final)
        let rel = "checkpoints/\(name)"
        if name.hasPrefix("step-") {
            summary.checkpoints.removeAll { $0 == rel }
            summary.checkpoints.append(rel)
            while summary.checkpoints.count > h.keepLast {
                let old = summary.checkpoints.removeFirst()
                try? FileManager.default.removeItem(at: run.file(old))
            }
        }
        run.log("step \(state.step): saved \(rel)")
    }

    /// Restores the checkpoint with the most steps (any of step-*, best, final).
    private func restoreLatest() throws {
        summary = (try? run.readSummary()) ?? RunSummary(totalSteps: totalSteps)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: run.checkpointsURL.path)) ?? []
        var best: (String, TrainerState)? = nil
        for n in names where !n.hasPrefix(".") {
            let url = run.checkpoint(n).appendingPathComponent("trainer_state.json")
            guard let d = try? Data(contentsOf: url), let s = try? JSONDecoder().decode(TrainerState.self, from: d) else { continue }
            if best == nil || s.step > best!.1.step || (s.step == best!.1.step && n.hasPrefix("step-")) { best = (n, s) }
        }
        summary.status = .inProgress
        summary.pid = ProcessInfo.processInfo.processIdentifier
        summary.error = nil
        summary.totalSteps = totalSteps
        if let (name, s) = best {
            try policy.restore(from: run.checkpoint(name))
            state = s
            tell("resuming from checkpoints/\(name) at step \(s.step)")
        } else {
            tell("no checkpoint yet: restarting from step 0")
            state = TrainerState(seed: h.seed)
            try start()
            return
        }
        summary.steps = state.step
        summary.checkpoints = summary.checkpoints.filter { FileManager.default.fileExists(atPath: run.file($0).path) }
        summary.baselineValReward = state.baselineValReward
        try run.truncate("metrics.jsonl", afterStep: state.step)
        try run.truncate("samples.jsonl", afterStep: state.step)
        try run.writeSummary(summary)
        run.log("resume at step \(state.step)")
    }

    private func stopCleanly() throws -> RunSummary {
        try saveCheckpoint(String(format: "step-%06d", state.step))
        progress?.finish()
        summary.status = .stopped
        summary.steps = state.step
        try run.writeSummary(summary)
        run.log("stopped at step \(state.step) on request")
        tell("stopped at step \(state.step); checkpoint saved. Continue with: rft train --resume \(run.path)")
        return summary
    }

    private func finish() throws -> RunSummary {
        progress?.finish()
        try saveCheckpoint("final")
        summary.finalCheckpoint = "checkpoints/final"
        if let final = run.readJSON("final_eval.json") {
            summary.finalValReward = final["mean_reward"]?.doubleValue
        } else if !validation.isEmpty {
            let report = try evaluate(tag: "final")
            try run.writeJSON(JSONValue.from(report), to: "final_eval.json")
            summary.finalValReward = report.meanReward
        }
        try evaluateTests(final: true)
        summary.status = .completed
        summary.steps = state.step
        summary.bestValReward = state.bestValReward
        summary.bestCheckpoint = state.bestCheckpoint
        try run.writeSummary(summary)
        run.log("completed \(state.step) steps")
        return summary
    }

    private func tell(_ s: String) {
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
    case graderFailed(sampleID: String, error: GradingFailure)
    /// More than `max_grader_error_rate` of the samples failed grading (over the window, or the baseline).
    case graderErrorRate(rate: Double, errors: Int, samples: Int, during: String, threshold: Double, tally: GraderErrorTally)

    public var description: String {
        switch self {
        case .graderFailed(let id, let e):
            return "grader failed on sample \(id) (\(e.type): \(e.message)) and its manifest says on_error: fail"
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
