/// One line of `metrics.jsonl`: what the trainer measured at one optimizer step.
///
/// `CodingKeys` is the one list of metric names: the trainer writes these keys and the report
/// reads them (TRL/verl names). Metrics named after a grader, an error type or k are listed in
/// ``FlatKey`` and encoded flat, beside the fixed keys: `rewards` becomes
/// `rewards/<grader>/mean` and `rewards/<grader>/std`, `graderErrors` becomes
/// `grader/errors/<type>`, `validation.passAtK` becomes `val/pass@<k>`.
///
/// Non-finite numbers are written as `null` (JSON has no NaN). Keys that only some steps have
/// (validation, abstentions, dynamic sampling, warnings) are left out when absent; the others are
/// always written, `null` when there is no value.
public struct StepMetrics: Codable, Equatable, Sendable {
    public var step: Int
    public var epoch: Int
    /// Wall-clock time the step ended (seconds since 1970).
    public var time: Double
    /// Mean and standard deviation of the rewards of everything sampled this step.
    public var reward: Double?
    public var rewardStd: Double?
    /// Per-grader rewards (and `overlong` shaping), by grader name.
    public var rewards: [String: RewardStats] = [:]
    /// Share of groups whose rewards were all equal (no learning signal).
    public var fracRewardZeroStd: Double?
    public var completionsMeanLength: Double?
    public var completionsMinLength: Double?
    public var completionsMaxLength: Double?
    /// Share of completions cut at the maximum length.
    public var completionsClippedRatio: Double?
    public var kl: Double?
    public var loss: Double?
    public var entropy: Double?
    public var clipRatioLowMean: Double?
    public var clipRatioHighMean: Double?
    public var clipRatioRegionMean: Double?
    public var gradNorm: Double?
    public var learningRate: Double?
    /// Tokens processed since the run began (prompts and completions).
    public var numTokens: Int
    public var tokensPerS: Double?
    public var samplingTokensPerS: Double?
    public var stepTime: Double?
    public var timingSamplingS: Double?
    public var timingGradingWaitS: Double?
    public var timingUpdateS: Double?
    public var graderLatencyMsMean: Double?
    public var graderLatencyMsP99: Double?
    /// Samples whose grading failed, by error type (only types that occurred).
    public var graderErrors: [String: Int] = [:]
    /// Samples a grader abstained on (nil: none).
    public var graderAbstained: Int?
    /// Groups sampled and kept by dynamic sampling (nil when it is off).
    public var dynamicSamplingGroupsSampled: Int?
    public var dynamicSamplingGroupsKept: Int?
    /// Validation figures, on the steps that ran validation.
    public var validation: Validation?
    /// The monitor's warnings at this step (nil: none).
    public var warnings: [Warning]?

    /// The fixed metric names, as written to `metrics.jsonl`.
    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case step, epoch, time, reward
        case rewardStd = "reward_std"
        case fracRewardZeroStd = "frac_reward_zero_std"
        case completionsMeanLength = "completions/mean_length"
        case completionsMinLength = "completions/min_length"
        case completionsMaxLength = "completions/max_length"
        case completionsClippedRatio = "completions/clipped_ratio"
        case kl, loss, entropy
        case clipRatioLowMean = "clip_ratio/low_mean"
        case clipRatioHighMean = "clip_ratio/high_mean"
        case clipRatioRegionMean = "clip_ratio/region_mean"
        case gradNorm = "grad_norm"
        case learningRate = "learning_rate"
        case numTokens = "num_tokens"
        case tokensPerS = "tokens_per_s"
        case samplingTokensPerS = "sampling_tokens_per_s"
        case stepTime = "step_time"
        case timingSamplingS = "timing/sampling_s"
        case timingGradingWaitS = "timing/grading_wait_s"
        case timingUpdateS = "timing/update_s"
        case graderLatencyMsMean = "grader/latency_ms_mean"
        case graderLatencyMsP99 = "grader/latency_ms_p99"
        case graderAbstained = "grader/abstained"
        case dynamicSamplingGroupsSampled = "dynamic_sampling/groups_sampled"
        case dynamicSamplingGroupsKept = "dynamic_sampling/groups_kept"
        case valReward = "val/reward"
        case valPassRate = "val/pass_rate"
        case warnings

        /// The parts of the step time (`timing/<part>_s`), in name order.
        public static let timings: [CodingKeys] = [.timingGradingWaitS, .timingSamplingS, .timingUpdateS]
    }

    /// Metric names that carry a grader, an error type or k.
    public enum FlatKey: Hashable, Sendable {
        /// `rewards/<grader>/mean`
        case rewardMean(grader: String)
        /// `rewards/<grader>/std`
        case rewardStd(grader: String)
        /// `grader/errors/<type>`: samples that failed with that error type.
        case graderErrors(type: String)
        /// `val/pass@<k>`
        case valPassAtK(k: Int)

        static let rewardsPrefix = "rewards/", errorsPrefix = "grader/errors/", passAtKPrefix = "val/pass@"

        /// The name as written to `metrics.jsonl`.
        public var name: String {
            switch self {
            case .rewardMean(let g): return "\(Self.rewardsPrefix)\(g)/mean"
            case .rewardStd(let g): return "\(Self.rewardsPrefix)\(g)/std"
            case .graderErrors(let t): return Self.errorsPrefix + t
            case .valPassAtK(let k): return "\(Self.passAtKPrefix)\(k)"
            }
        }

        /// The key a name spells, or nil for a fixed or unknown name.
        public init?(name: String) {
            if name.hasPrefix(Self.rewardsPrefix), name.hasSuffix("/mean") {
                self = .rewardMean(grader: String(name.dropFirst(Self.rewardsPrefix.count).dropLast("/mean".count)))
            } else if name.hasPrefix(Self.rewardsPrefix), name.hasSuffix("/std") {
                self = .rewardStd(grader: String(name.dropFirst(Self.rewardsPrefix.count).dropLast("/std".count)))
            } else if name.hasPrefix(Self.errorsPrefix) {
                self = .graderErrors(type: String(name.dropFirst(Self.errorsPrefix.count)))
            } else if name.hasPrefix(Self.passAtKPrefix), let k = Int(name.dropFirst(Self.passAtKPrefix.count)) {
                self = .valPassAtK(k: k)
            } else {
                return nil
            }
        }
    }

    /// Mean and standard deviation of one grader's scores over a step's samples.
    public struct RewardStats: Equatable, Sendable {
        public var mean: Double?
        public var std: Double?
        public init(mean: Double?, std: Double?) { self.mean = mean; self.std = std }
    }

    /// Validation at a step: `val/reward`, `val/pass_rate` and `val/pass@<k>`.
    public struct Validation: Equatable, Sendable {
        public var reward: Double?
        public var passRate: Double?
        /// Pass@k and its k, when validation samples k completions per prompt.
        public var passAtK: (k: Int, value: Double)?
        public init(reward: Double?, passRate: Double?, passAtK: (k: Int, value: Double)? = nil) {
            self.reward = reward; self.passRate = passRate; self.passAtK = passAtK
        }
        public static func == (a: Validation, b: Validation) -> Bool {
            a.reward == b.reward && a.passRate == b.passRate && a.passAtK?.k == b.passAtK?.k && a.passAtK?.value == b.passAtK?.value
        }
    }

    /// A warning the trainer's monitor raised: `{"kind", "message"}`.
    public struct Warning: Codable, Equatable, Sendable {
        public var kind: String
        public var message: String
        public init(kind: String, message: String) { self.kind = kind; self.message = message }
    }

    public init(step: Int, epoch: Int, time: Double, numTokens: Int) {
        self.step = step; self.epoch = epoch; self.time = time; self.numTokens = numTokens
    }
}
