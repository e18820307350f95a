import Foundation
import GraderRuntime

/// The verdict of a baseline evaluation, after Bedrock's best practices.
public enum Recommendation: String, Codable, Sendable {
    /// Mean reward near 0: the model rarely succeeds, so RFT has little to learn from. Do SFT first.
    case sftFirst = "sft_first"
    /// Mean reward above 0.95: the model already solves the task.
    case rftUnnecessary = "rft_unnecessary"
    /// In between: RFT can help.
    case go
    /// The grader failed on more samples than allowed: the rewards say nothing about the model yet.
    case fixGrader = "fix_grader"

    /// The verdict for a mean reward; a grader error rate above `maxErrorRate` overrides it.
    public static func from(meanReward: Double?, errorRate: Double = 0, maxErrorRate: Double = 1) -> Recommendation {
        if errorRate > maxErrorRate { return .fixGrader }
        guard let m = meanReward else { return .sftFirst }
        if m < 0.05 { return .sftFirst }
        if m > 0.95 { return .rftUnnecessary }
        return .go
    }

    public var advice: String {
        switch self {
        case .sftFirst: return "mean reward is near 0: do supervised fine-tuning first (rft sft), then RFT"
        case .rftUnnecessary: return "mean reward is above 0.95: RFT is probably unnecessary"
        case .go: return "the model succeeds sometimes: RFT can improve it (rft train --config FILE)"
        case .fixGrader: return "your grader failed on most samples: fix it first (rft grader test DIR), the rewards say nothing yet"
        }
    }
}

/// One bar of the reward histogram.
public struct HistogramBin: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public var count: Int
}

/// One graded evaluation sample, kept for display.
public struct EvalSample: Codable, Equatable, Sendable {
    public var promptID: String
    public var prompt: String
    public var completion: String
    public var reward: Double?
    public var error: GraderError?
    enum CodingKeys: String, CodingKey { case promptID = "prompt_id", prompt, completion, reward, error }
}

/// What an evaluation found (`baseline.json`, `final_eval.json`, `rft eval`).
public struct EvalReport: Codable, Equatable, Sendable {
    public var prompts: Int
    public var samples: Int
    public var meanReward: Double?
    public var rewardStd: Double?
    /// Share of graded samples with reward ≥ the pass threshold.
    public var passRate: Double?
    public var passThreshold: Double
    /// Share of prompts where at least one of k samples passed.
    public var passAtK: Double?
    public var k: Int?
    public var histogram: [HistogramBin]
    /// Grader errors among the samples, by type, whatever `on_error` made of them (a 0, an abstention).
    public var errors: [String: Int]
    /// Share of the samples whose grading failed.
    public var errorRate: Double?
    /// The first distinct messages of each error type.
    public var errorExamples: [String: [String]]?
    public var abstained: Int
    public var recommendation: Recommendation
    public var examples: [EvalSample]

    /// One standard error of the mean reward: the reward's standard deviation over √(graded samples).
    public var standardError: Double? {
        let graded = samples - errors.values.reduce(0, +) - abstained
        guard let rewardStd, graded > 0 else { return nil }
        return rewardStd / Double(graded).squareRoot()
    }

    enum CodingKeys: String, CodingKey {
        case prompts, samples, meanReward = "mean_reward", rewardStd = "reward_std", passRate = "pass_rate"
        case passThreshold = "pass_threshold", passAtK = "pass_at_k", k, histogram, errors, abstained
        case errorRate = "error_rate", errorExamples = "error_examples"
        case recommendation, examples
    }
}

/// Samples completions for evaluation: (records, count, temperature, seed) → `count` texts per
/// record, in record order. A batch of records is decoded together (one batched forward per token
/// for the embedded model); `seed` covers the whole batch.
public typealias CompletionSampler = ([PromptRecord], Int, Double, UInt64) throws -> [[String]]

/// Validation and baseline evaluation: one completion per prompt for the mean reward and pass rate,
/// plus k more per prompt for pass@k when asked. Grading overlaps sampling.
public struct Evaluator {
    public var scorer: Scorer
    public var passThreshold: Double
    /// Above this share of failed gradings the recommendation is "fix the grader first".
    public var maxErrorRate: Double
    /// Prompts sampled together, and handed to the grader together while the next ones are sampled.
    public var chunk = 64

    public init(scorer: Scorer, passThreshold: Double, maxErrorRate: Double = 0.5) {
        self.scorer = scorer; self.passThreshold = passThreshold; self.maxErrorRate = maxErrorRate
    }

    public func evaluate(_ records: [PromptRecord], sampler: CompletionSampler, temperature: Double,
                         passK: Int? = nil, passKTemperature: Double = 1, seed: UInt64,
                         tag: String = "eval") throws -> EvalReport {
        let queue = GradingQueue(scorer: scorer)
        var rng = TrainerRNG(seed: seed)
        var main: [(GradingRequest, Int)] = [], extra: [(GradingRequest, Int)] = []
        let chunk = max(1, self.chunk)
        for start in stride(from: 0, to: records.count, by: chunk) {
            let part = Array(records[start..<min(start + chunk, records.count)])
            let texts = try sampler(part, 1, temperature, rng.next())
            let kTexts = try passK.map { try sampler(part, $0, passKTemperature, rng.next()) }
            var pending: [GradingRequest] = []
            for (i, r) in part.enumerated() {
                for (k, t) in texts[i].enumerated() {
                    let q = GradingRequest(id: "\(r.id)#\(tag).\(k)", record: r, completion: t)
                    main.append((q, start + i)); pending.append(q)
                }
                for (k, t) in (kTexts?[i] ?? []).enumerated() {
                    let q = GradingRequest(id: "\(r.id)#\(tag).k\(k)", record: r, completion: t)
                    extra.append((q, start + i)); pending.append(q)
                }
            }
            queue.submit(pending)
        }
        let outcomes = queue.collect().outcomes
        var rewards: [Double] = [], tally = GraderErrorTally(), abstained = 0
        var examples: [EvalSample] = []
        for (q, _) in main {
            let o = outcomes[q.id]
            // An error is counted whatever on_error made of it (a 0 in the mean, or an abstention).
            if let e = o?.error { tally.add(e) }
            if let r = o?.reward { rewards.append(r) } else if o?.error == nil { abstained += 1 }
            if examples.count < 20 {
                examples.append(EvalSample(promptID: q.record.id, prompt: q.record.lastUserText, completion: q.completion,
                                           reward: o?.reward, error: o?.error))
            }
        }
        var passAtK: Double? = nil
        if let K = passK, !records.isEmpty {
            var passed = Set<Int>()
            for (q, pi) in extra where (outcomes[q.id]?.reward ?? -.infinity) >= passThreshold { passed.insert(pi) }
            passAtK = Double(passed.count) / Double(records.count)
            _ = K
        }
        let mean = rewards.isEmpty ? nil : rewards.reduce(0, +) / Double(rewards.count)
        let errorRate = main.isEmpty ? 0 : Double(tally.total) / Double(main.count)
        return EvalReport(prompts: records.count, samples: main.count, meanReward: mean,
                          rewardStd: rewards.isEmpty ? nil : Advantages.std(rewards),
                          passRate: rewards.isEmpty ? nil : Double(rewards.filter { $0 >= passThreshold }.count) / Double(rewards.count),
                          passThreshold: passThreshold, passAtK: passAtK, k: passK,
                          histogram: Self.histogram(rewards), errors: tally.counts, errorRate: errorRate,
                          errorExamples: tally.byType.mapValues(\.examples), abstained: abstained,
                          recommendation: .from(meanReward: mean, errorRate: errorRate, maxErrorRate: maxErrorRate),
                          examples: examples)
    }

    /// Ten equal bins over [0, 1], widened to the observed range when rewards leave it.
    public static func histogram(_ xs: [Double], bins: Int = 10) -> [HistogramBin] {
        let lo = min(0, xs.min() ?? 0), hi = max(1, xs.max() ?? 1)
        let width = (hi - lo) / Double(bins)
        var counts = [Int](repeating: 0, count: bins)
        for x in xs { counts[min(bins - 1, max(0, Int((x - lo) / width)))] += 1 }
        return (0..<bins).map { HistogramBin(lower: lo + Double($0) * width, upper: lo + Double($0 + 1) * width, count: counts[$0]) }
    }
}

extension EvalReport {
    /// A terminal rendering: histogram bars, mean, pass rate and the recommendation.
    public func rendered(title: String) -> String {
        var lines = ["\(title): \(prompts) prompts, \(samples) samples"]
        let peak = max(1, histogram.map(\.count).max() ?? 1)
        for b in histogram {
            let bar = String(repeating: "█", count: Int((Double(b.count) / Double(peak) * 30).rounded(.up)))
            lines.append(String(format: "  [%5.2f, %5.2f) %5d ", b.lower, b.upper, b.count) + bar)
        }
        lines.append("  mean reward: " + (meanReward.map { String(format: "%.3f", $0) } ?? "-")
                     + "   pass rate (reward ≥ \(fmt(passThreshold))): " + (passRate.map { String(format: "%.1f%%", $0 * 100) } ?? "-"))
        if let p = passAtK, let k { lines.append(String(format: "  pass@%d: %.1f%%", k, p * 100)) }
        let failed = errors.values.reduce(0, +)
        if failed > 0 {
            lines.append("  grading errors: \(failed) of \(samples) samples (\(pct(errorRate ?? 0)))")
            for (type, n) in errors.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                let first = errorExamples?[type]?.first.map { ": " + GraderErrorTally.firstLine($0) } ?? ""
                lines.append("    \(type) ×\(n)\(first)")
            }
        }
        if abstained > 0 { lines.append("  abstained: \(abstained) of \(samples) samples") }
        if recommendation == .fixGrader {
            lines.append("  recommendation: your grader failed on \(pct(errorRate ?? 1)) of samples: fix it first "
                         + "(rft grader test DIR shows each error); the rewards above say nothing about the model yet")
        } else {
            lines.append("  recommendation: \(recommendation.advice)")
            if failed > 0 {
                lines.append("  note: grading failed on \(pct(errorRate ?? 0)) of samples; their rewards are what the grader's "
                             + "on_error made of them (zero: counted as 0, skip: left out), so check the errors above first")
            }
        }
        return lines.joined(separator: "\n")
    }
}
