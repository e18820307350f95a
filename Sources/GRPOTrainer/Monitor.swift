/// A warning the monitor raises; written to `metrics.jsonl` as `{"kind", "message"}` on the step it fires.
public struct MonitorWarning: Codable, Equatable, Sendable {
    public var kind: Kind
    public var message: String

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case rewardPlateau = "reward_plateau"
        case rewardVarianceRising = "reward_variance_rising"
        case overfitting
        case validationDeclining = "validation_declining"
        case graderErrorRate = "grader_error_rate"
        case allRewardsZero = "all_rewards_zero"
    }

    public init(kind: Kind, message: String) { self.kind = kind; self.message = message }
}

/// What the monitor looks at after each step.
public struct StepObservation: Sendable {
    public var step: Int
    /// Mean reward over graded samples (nil when none was graded).
    public var reward: Double?
    public var rewardStd: Double?
    /// Every graded sample scored exactly 0.
    public var allRewardsZero: Bool
    /// Share of samples whose grading failed.
    public var graderErrorRate: Double
    /// Validation reward, on validation steps.
    public var valReward: Double?

    public init(step: Int, reward: Double?, rewardStd: Double?, allRewardsZero: Bool, graderErrorRate: Double, valReward: Double? = nil) {
        self.step = step; self.reward = reward; self.rewardStd = rewardStd
        self.allRewardsZero = allRewardsZero; self.graderErrorRate = graderErrorRate; self.valReward = valReward
    }
}

/// Bedrock's monitoring best practices, automated: it watches the reward, its spread and
/// validation, and warns about plateaus below 0.15, rising variance, overfitting, declining
/// validation, grader errors and all-zero rewards. Each kind fires at most once per `window` steps.
public struct TrainingMonitor: Sendable {
    public var window: Int
    public var plateauLevel: Double
    public var errorThreshold: Double
    private var rewards: [Double] = []
    private var stds: [Double] = []
    private var vals: [(val: Double, train: Double)] = []
    private var lastFired: [MonitorWarning.Kind: Int] = [:]

    public init(window: Int = 10, plateauLevel: Double = 0.15, errorThreshold: Double = 0.05) {
        self.window = max(2, window); self.plateauLevel = plateauLevel; self.errorThreshold = errorThreshold
    }

    public mutating func observe(_ o: StepObservation) -> [MonitorWarning] {
        var out: [MonitorWarning] = []
        func fire(_ kind: MonitorWarning.Kind, _ message: String) {
            if let last = lastFired[kind], o.step - last < window { return }
            lastFired[kind] = o.step
            out.append(MonitorWarning(kind: kind, message: message))
        }
        if let r = o.reward { rewards.append(r) }
        if let s = o.rewardStd { stds.append(s) }

        if o.allRewardsZero {
            fire(.allRewardsZero, "every sample scored 0 at step \(o.step): the task may be too hard for this model (evaluate the baseline; consider SFT first) or the grader may be broken (run `rft grader test`)")
        }
        if o.graderErrorRate > errorThreshold {
            fire(.graderErrorRate, "\(pct(o.graderErrorRate)) of samples failed grading at step \(o.step) (threshold \(pct(errorThreshold))); see grader/errors/* and samples.jsonl")
        }
        let w = window
        if rewards.count >= 2 * w {
            let recent = mean(rewards.suffix(w)), before = mean(rewards.suffix(2 * w).prefix(w))
            if recent < plateauLevel, abs(recent - before) < 0.02 {
                fire(.rewardPlateau, "reward has plateaued at \(f3(recent)) (below \(plateauLevel)) over the last \(w) steps: check the grader, raise learning_rate or num_generations, or do SFT first")
            }
        }
        if stds.count >= 2 * w {
            let recent = mean(stds.suffix(w)), before = mean(stds.suffix(2 * w).prefix(w))
            if recent > 1.5 * before, recent - before > 0.05 {
                fire(.rewardVarianceRising, "reward std rose from \(f3(before)) to \(f3(recent)) over the last \(2 * w) steps: training may be unstable; consider a lower learning_rate or a KL penalty (beta)")
            }
        }
        if let v = o.valReward {
            let train = rewards.isEmpty ? 0 : mean(rewards.suffix(w))
            vals.append((v, train))
            if vals.count >= 3 {
                let a = vals[vals.count - 3], b = vals[vals.count - 2], c = vals[vals.count - 1]
                if c.val < b.val, b.val < a.val {
                    if c.train > a.train {
                        fire(.overfitting, "train reward rose (\(f3(a.train)) → \(f3(c.train))) while validation fell (\(f3(a.val)) → \(f3(c.val))): stop at the best checkpoint or add data")
                    } else {
                        fire(.validationDeclining, "validation reward declined twice in a row (\(f3(a.val)) → \(f3(b.val)) → \(f3(c.val))): consider stopping at the best checkpoint")
                    }
                }
            }
        }
        return out
    }

    private func mean<C: Collection>(_ xs: C) -> Double where C.Element == Double {
        xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
    }
}

func f3(_ x: Double) -> String { String(format: "%.3f", x) }
func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
