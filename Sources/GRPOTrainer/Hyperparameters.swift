import Foundation
import GraderRuntime
import JSON
import TransformerModel

/// How the per-sequence losses are normalised (see docs/TRAINING.md).
public enum LossType: String, CaseIterable, Codable, Sendable {
    /// DeepSeekMath GRPO: mean over sequences of each sequence's token mean.
    case grpo
    /// Dr. GRPO: token sum divided by (sequences × max_completion_length).
    case drGRPO = "dr_grpo"
    /// DAPO: token sum divided by the number of completion tokens in the batch.
    case dapo
}

/// Which standard deviation divides the advantages.
public enum ScaleRewards: String, CaseIterable, Codable, Sendable {
    /// Â = (R − mean_group) / (std_group + ε)
    case group
    /// Â = (R − mean_group) / (std_batch + ε)
    case batch
    /// Â = R − mean_group (Dr. GRPO)
    case none
}

/// Learning-rate decay after warm-up (the model's `LRSchedule`).
public typealias LRScheduler = LRSchedule.Decay

/// DAPO's soft overlong punishment: 0 up to `maxLen − bufferLen` tokens, then a linear
/// penalty down to `−penalty` at `maxLen` (and beyond).
public struct OverlongShaping: Codable, Equatable, Sendable {
    public var maxLen: Int
    public var bufferLen: Int
    public var penalty: Double
    public init(maxLen: Int, bufferLen: Int, penalty: Double = 1.0) {
        self.maxLen = maxLen; self.bufferLen = bufferLen; self.penalty = penalty
    }
    enum CodingKeys: String, CodingKey { case maxLen = "max_len", bufferLen = "buffer_len", penalty }
}

/// Every GRPO knob, with Bedrock-like names and TRL-like defaults.
///
/// Defaults that depend on `loss_type` follow the papers when the field is left out:
/// `dr_grpo` sets `scale_rewards` to `none`; `dapo` sets `epsilon_high` to 0.28 and `beta` to 0.
public struct Hyperparameters: Codable, Equatable, Sendable {
    public var epochs = 1
    /// Optional cap on optimizer steps (over all epochs).
    public var maxSteps: Int? = nil
    /// Prompts per step.
    public var batchSize = 8
    /// Completions per prompt (G).
    public var numGenerations = 8
    public var learningRate = 1e-6
    public var lrScheduler = LRScheduler.linear
    public var warmupSteps = 0
    public var weightDecay = 0.0
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    /// Global gradient-norm clip; 0 turns clipping off.
    public var maxGradNorm = 1.0
    public var maxPromptLength = 512
    /// Left out of the config, it becomes ``defaultCompletionLength(maxSeqLen:)`` of the model
    /// (``TrainingSetup/fitCompletionLength(_:maxSeqLen:)``).
    public var maxCompletionLength = 256
    /// Whether `max_completion_length` was left at its default (not written to JSON).
    public var maxCompletionLengthIsDefault = true
    public var temperature = 1.0
    public var topP = 1.0
    /// 0 = no top-k filter.
    public var topK = 0
    /// KL coefficient against the frozen reference; 0 skips the reference forward.
    public var beta = 0.0
    public var epsilon = 0.2
    public var epsilonHigh = 0.2
    public var lossType = LossType.grpo
    public var scaleRewards = ScaleRewards.group
    /// μ: gradient steps per generated batch; 1 skips the π_old forward.
    public var numIterations = 1
    /// Drop groups whose rewards are all equal and refill the batch.
    public var dynamicSampling = false
    /// How many extra sampling rounds dynamic sampling may spend per step.
    public var dynamicSamplingMaxRounds = 3
    public var overlongShaping: OverlongShaping? = nil
    /// Truncated completions (no EOS within `max_completion_length`) get no loss.
    public var maskTruncatedCompletions = false
    /// Validation every N steps (and before step 1 and after the last).
    public var evalInterval = 10
    /// Checkpoint every N steps; 0 keeps only the best and final checkpoints.
    public var saveInterval = 50
    /// Periodic checkpoints kept on disk (best and final are always kept).
    public var keepLast = 3
    /// Write prompts, completions and scores to samples.jsonl every N steps.
    public var logSamplesInterval = 10
    /// Prompts decoded together in one batched sampling call; the graders score one chunk
    /// while the next one samples.
    public var samplingChunk = 4
    /// Sequences per forward/backward pass; gradients accumulate over the batch (exactly the
    /// full-batch gradient, with less activation memory).
    public var microBatchSize = 16
    /// Validation temperature; 0 decodes greedily.
    public var evalTemperature = 0.0
    /// Also report pass@k on validation (k samples per prompt at `temperature`).
    public var evalPassK: Int? = nil
    /// Cap on validation prompts per evaluation (nil = all).
    public var evalMaxPrompts: Int? = nil
    /// A sample passes when its reward is at least this.
    public var passThreshold = 1.0
    /// Monitor: warn when more than this share of samples fail grading in a step.
    public var graderErrorThreshold = 0.05
    /// Stop the run (status Failed) when more than this share of the samples graded over the last
    /// `graderErrorWindow` steps failed grading (also checked on the baseline evaluation and at the
    /// last step of a shorter run). 1 turns the check off.
    public var maxGraderErrorRate = 0.5
    /// Steps over which `maxGraderErrorRate` is measured.
    public var graderErrorWindow = 5
    public var seed = 42

    public init() {}

    /// Equal when every config field is (whether `max_completion_length` was given does not count:
    /// a resolved config, with the length written out, equals the config it came from).
    public static func == (a: Hyperparameters, b: Hyperparameters) -> Bool {
        var a = a, b = b
        a.maxCompletionLengthIsDefault = false
        b.maxCompletionLengthIsDefault = false
        return JSONValue.from(a) == JSONValue.from(b)
    }

    /// The default `max_completion_length` for a model whose context holds `maxSeqLen` tokens: 256,
    /// or half the context when that is less (the other half is left to the prompt).
    public static func defaultCompletionLength(maxSeqLen: Int) -> Int { max(1, min(256, maxSeqLen / 2)) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, maxSteps = "max_steps", batchSize = "batch_size", numGenerations = "num_generations"
        case learningRate = "learning_rate", lrScheduler = "lr_scheduler", warmupSteps = "warmup_steps"
        case weightDecay = "weight_decay", adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2"
        case adamEpsilon = "adam_epsilon", maxGradNorm = "max_grad_norm"
        case maxPromptLength = "max_prompt_length", maxCompletionLength = "max_completion_length"
        case temperature, topP = "top_p", topK = "top_k", beta, epsilon, epsilonHigh = "epsilon_high"
        case lossType = "loss_type", scaleRewards = "scale_rewards", numIterations = "num_iterations"
        case dynamicSampling = "dynamic_sampling", dynamicSamplingMaxRounds = "dynamic_sampling_max_rounds"
        case overlongShaping = "overlong_shaping", maskTruncatedCompletions = "mask_truncated_completions"
        case evalInterval = "eval_interval", saveInterval = "save_interval", keepLast = "keep_last"
        case logSamplesInterval = "log_samples_interval", samplingChunk = "sampling_chunk", microBatchSize = "micro_batch_size", evalTemperature = "eval_temperature"
        case evalPassK = "eval_pass_k", evalMaxPrompts = "eval_max_prompts", passThreshold = "pass_threshold"
        case graderErrorThreshold = "grader_error_threshold", maxGraderErrorRate = "max_grader_error_rate"
        case graderErrorWindow = "grader_error_window", seed
    }

    /// The keys of a `hyperparameters` object (`overlong_shaping` with its own).
    static var schema: ConfigSchema {
        var keys: [String: ConfigSchema] = [:]
        for k in CodingKeys.allCases { keys[k.rawValue] = .any }
        keys["overlong_shaping"] = .object(["max_len": .any, "buffer_len": .any, "penalty": .any])
        return .object(keys)
    }

    /// Reads and range-checks every field of a `hyperparameters` object.
    public static func parse(_ value: JSONValue, path: String = "hyperparameters") throws -> Hyperparameters {
        var r = try FieldReader(value, path: path)
        var h = Hyperparameters()
        let big = 100_000_000
        h.epochs = try r.int("epochs", default: h.epochs, 1...50)!
        h.maxSteps = try r.int("max_steps", default: nil, 1...big)
        h.batchSize = try r.int("batch_size", default: h.batchSize, 1...512)!
        h.numGenerations = try r.int("num_generations", default: h.numGenerations, 2...256)!
        h.learningRate = try r.double("learning_rate", default: h.learningRate, 0...0.1, openLower: true)!
        h.lrScheduler = try r.choice("lr_scheduler", default: h.lrScheduler)!
        h.warmupSteps = try r.int("warmup_steps", default: 0, 0...big)!
        h.weightDecay = try r.double("weight_decay", default: h.weightDecay, 0...1)!
        h.adamBeta1 = try r.double("adam_beta1", default: h.adamBeta1, 0...0.999999)!
        h.adamBeta2 = try r.double("adam_beta2", default: h.adamBeta2, 0...0.999999)!
        h.adamEpsilon = try r.double("adam_epsilon", default: h.adamEpsilon, 0...1, openLower: true)!
        h.maxGradNorm = try r.double("max_grad_norm", default: h.maxGradNorm, 0...1e6)!
        h.maxPromptLength = try r.int("max_prompt_length", default: h.maxPromptLength, 1...1_000_000)!
        h.maxCompletionLength = try r.int("max_completion_length", default: h.maxCompletionLength, 1...1_000_000)!
        h.maxCompletionLengthIsDefault = value["max_completion_length"].map(\.isNull) ?? true
        h.temperature = try r.double("temperature", default: h.temperature, 0...10, openLower: true)!
        h.topP = try r.double("top_p", default: h.topP, 0...1, openLower: true)!
        h.topK = try r.int("top_k", default: h.topK, 0...1_000_000)!
        h.lossType = try r.choice("loss_type", default: h.lossType)!
        h.beta = try r.double("beta", default: h.lossType == .dapo ? 0 : h.beta, 0...100)!
        h.epsilon = try r.double("epsilon", default: h.epsilon, 0...1)!
        h.epsilonHigh = try r.double("epsilon_high", default: h.lossType == .dapo ? 0.28 : h.epsilon, 0...10)!
        if h.epsilonHigh < h.epsilon {
            throw ConfigError.outOfRange(field: r.name("epsilon_high"), value: fmt(h.epsilonHigh),
                                         allowed: "epsilon_high ≥ epsilon (\(fmt(h.epsilon)))")
        }
        h.scaleRewards = try r.choice("scale_rewards", default: h.lossType == .drGRPO ? ScaleRewards.none : .group)!
        h.numIterations = try r.int("num_iterations", default: h.numIterations, 1...64)!
        h.dynamicSampling = try r.bool("dynamic_sampling", default: false)
        h.dynamicSamplingMaxRounds = try r.int("dynamic_sampling_max_rounds", default: h.dynamicSamplingMaxRounds, 1...100)!
        if let o = r.raw("overlong_shaping") {
            var orr = try FieldReader(o, path: r.name("overlong_shaping"))
            guard let maxLen = try orr.int("max_len", default: nil, 1...1_000_000) else {
                throw ConfigError.missing(field: orr.name("max_len"), hint: "the length at which the penalty reaches its maximum")
            }
            let buffer = try orr.int("buffer_len", default: max(1, maxLen / 4), 1...1_000_000)!
            if buffer > maxLen {
                throw ConfigError.outOfRange(field: orr.name("buffer_len"), value: "\(buffer)", allowed: "1 to max_len (\(maxLen))")
            }
            let penalty = try orr.double("penalty", default: 1.0, 0...100)!
            try orr.finish()
            h.overlongShaping = OverlongShaping(maxLen: maxLen, bufferLen: buffer, penalty: penalty)
        }
        h.maskTruncatedCompletions = try r.bool("mask_truncated_completions", default: false)
        h.evalInterval = try r.int("eval_interval", default: h.evalInterval, 1...big)!
        h.saveInterval = try r.int("save_interval", default: h.saveInterval, 0...big)!
        h.keepLast = try r.int("keep_last", default: h.keepLast, 1...10_000)!
        h.logSamplesInterval = try r.int("log_samples_interval", default: h.logSamplesInterval, 1...big)!
        h.samplingChunk = try r.int("sampling_chunk", default: h.samplingChunk, 1...512)!
        h.microBatchSize = try r.int("micro_batch_size", default: h.microBatchSize, 1...100_000)!
        h.evalTemperature = try r.double("eval_temperature", default: h.evalTemperature, 0...10)!
        h.evalPassK = try r.int("eval_pass_k", default: nil, 1...256)
        h.evalMaxPrompts = try r.int("eval_max_prompts", default: nil, 1...big)
        h.passThreshold = try r.double("pass_threshold", default: h.passThreshold, -1e9...1e9)!
        h.graderErrorThreshold = try r.double("grader_error_threshold", default: h.graderErrorThreshold, 0...1)!
        h.maxGraderErrorRate = try r.double("max_grader_error_rate", default: h.maxGraderErrorRate, 0...1)!
        h.graderErrorWindow = try r.int("grader_error_window", default: h.graderErrorWindow, 1...100_000)!
        h.seed = try r.int("seed", default: h.seed, 0...Int(Int32.max))!
        try r.finish()
        return h
    }
}
