import Foundation

/// One conversation rendered for SFT.
public struct SFTExample: Equatable, Sendable {
    public var tokens: [Int]
    /// True on the assistant tokens the loss covers (see ``ChatTokens/lossMask``).
    public var lossMask: [Bool]
    /// Where it came from, e.g. `train.jsonl:12`.
    public var source: String
    /// The conversation was longer than the sequence limit and was cut.
    public var truncated: Bool

    public init(tokens: [Int], lossMask: [Bool], source: String, truncated: Bool = false) {
        self.tokens = tokens; self.lossMask = lossMask; self.source = source; self.truncated = truncated
    }
    public var trainedCount: Int { lossMask.lazy.filter { $0 }.count }
}

/// Hyperparameters of ``SupervisedFineTuning``.
public struct SFTOptions: Sendable {
    public var epochs: Int = 3
    /// Peak learning rate (after warmup). ~1e-3 suits small models trained from scratch,
    /// ~1e-5 pretrained checkpoints.
    public var learningRate: Float = 1e-3
    /// Conversations per optimizer step; the loss is the mean over their assistant tokens.
    public var batchSize: Int = 8
    /// Conversations per forward/backward pass (gradient accumulation; bounds activation
    /// memory). nil: the whole batch at once. The update is the same either way.
    public var microBatchSize: Int? = nil
    /// Linear warmup steps; nil means 5% of all steps.
    public var warmupSteps: Int? = nil
    public var schedule: LRSchedule.Decay = .cosine
    public var weightDecay: Float = 0
    /// Global gradient-norm clip (0 disables it).
    public var maxGradNorm: Float = 1
    /// Evaluate the held-out loss every this many steps, and at the end of every epoch (0: epochs only).
    public var evalEvery: Int = 0
    /// Shuffling seed.
    public var seed: UInt64 = 0
    public init() {}
}

/// What ``SupervisedFineTuning/run(train:validation:options:onEvent:)`` reports as it goes.
public enum SFTEvent: Sendable {
    /// Before the first step: example counts, steps planned, and the held-out loss of the
    /// starting model (nil without validation data).
    case started(trainExamples: Int, validationExamples: Int, totalSteps: Int, validationLoss: Float?)
    /// After each optimizer step.
    case step(SFTStepMetrics)
    /// After a held-out evaluation.
    case evaluated(step: Int, epoch: Int, validationLoss: Float)
    /// At the end of each epoch (save a checkpoint here).
    case epochEnded(epoch: Int, step: Int, trainLoss: Float, validationLoss: Float?)
}

/// Metrics of one optimizer step.
public struct SFTStepMetrics: Sendable, Equatable {
    public var step: Int, totalSteps: Int, epoch: Int
    /// Mean cross-entropy (nats) over the step's assistant tokens.
    public var loss: Float
    public var learningRate: Float
    /// Gradient norm before clipping.
    public var gradNorm: Float
    public var tokens: Int, trainedTokens: Int
    public var seconds: Double
}

/// The outcome of an SFT run.
public struct SFTSummary: Sendable, Equatable {
    public var steps: Int
    public var initialValidationLoss: Float?
    public var finalValidationLoss: Float?
    public var bestValidationLoss: Float?
    public var finalTrainLoss: Float
    public var trainedTokens: Int
    public var seconds: Double
}

/// An SFT run that cannot continue.
public enum SFTError: Error, Equatable, CustomStringConvertible {
    case noTrainingData
    case invalidOption(String)
    case diverged(step: Int, loss: Float)

    public var description: String {
        switch self {
        case .noTrainingData: return "no usable training conversations"
        case let .invalidOption(m): return m
        case let .diverged(step, loss): return "training diverged at step \(step) (loss \(loss)); lower the learning rate"
        }
    }
}

/// Supervised fine-tuning on chat conversations, with the loss on assistant tokens only.
///
/// The rft CLI's `rft sft` and the GRPO demo (to build its base model) both use it:
///
///     let template = try ChatTemplate(tokenizer: ByteTokenizer())
///     let (records, issues) = try ChatDataset.load(url)
///     let data = SupervisedFineTuning.prepare(records, template: template, file: url.path,
///                                             maxSeqLen: model.config.maxSeqLen)
///     let (train, val) = SupervisedFineTuning.split(data.examples, validationFraction: 0.1, seed: 0)
///     let sft = SupervisedFineTuning(model: model)
///     let summary = try sft.run(train: train, validation: val, options: SFTOptions()) { event in print(event) }
public final class SupervisedFineTuning {
    public let model: Transformer
    public let optimizer: AdamW

    /// - Parameter optimizer: resume from this optimizer state; a fresh AdamW otherwise.
    public init(model: Transformer, optimizer: AdamW? = nil) {
        self.model = model
        self.optimizer = optimizer ?? AdamW(layout: model.layout)
    }

    /// Renders `records` with `template`. Conversations longer than `maxSeqLen` are cut to it
    /// (`truncated`); a conversation with no assistant token left, or that the template rejects,
    /// becomes an issue naming `file:line`.
    public static func prepare(_ records: [ChatRecord], template: ChatTemplate, file: String, maxSeqLen: Int)
        -> (examples: [SFTExample], issues: [ChatDatasetIssue]) {
        var examples: [SFTExample] = [], issues: [ChatDatasetIssue] = []
        for r in records {
            do {
                var conv = try template.conversation(r.messages)
                let truncated = conv.tokens.count > maxSeqLen
                if truncated {
                    conv.tokens.removeLast(conv.tokens.count - maxSeqLen)
                    conv.lossMask.removeLast(conv.lossMask.count - maxSeqLen)
                }
                if !conv.lossMask.isEmpty { conv.lossMask[0] = false }
                guard conv.trainedCount > 0 else {
                    issues.append(ChatDatasetIssue(file: file, line: r.line,
                                                   message: "no assistant tokens within the first \(maxSeqLen) tokens"))
                    continue
                }
                examples.append(SFTExample(tokens: conv.tokens, lossMask: conv.lossMask, source: "\(file):\(r.line)",
                                           truncated: truncated))
            } catch {
                issues.append(ChatDatasetIssue(file: file, line: r.line, message: "\(error)"))
            }
        }
        return (examples, issues)
    }

    /// A seeded shuffle, then the last `validationFraction` (at least one example when the
    /// fraction is positive and there are two or more examples) held out.
    public static func split(_ examples: [SFTExample], validationFraction: Double, seed: UInt64)
        -> (train: [SFTExample], validation: [SFTExample]) {
        var rng = RandomGenerator(seed: seed)
        let shuffled = examples.shuffled(using: &rng)
        guard validationFraction > 0, shuffled.count >= 2 else { return (shuffled, []) }
        let n = min(shuffled.count - 1, max(1, Int((Double(shuffled.count) * validationFraction).rounded())))
        return (Array(shuffled.dropLast(n)), Array(shuffled.suffix(n)))
    }

    /// Mean cross-entropy over the assistant tokens of `examples` (forward only).
    public func loss(_ examples: [SFTExample], batchSize: Int = 8) throws -> Float {
        var total: Double = 0, count = 0
        var i = 0
        while i < examples.count {
            let chunk = examples[i..<min(i + max(1, batchSize), examples.count)]
            let batch = TokenBatch(sequences: chunk.map(\.tokens), lossMask: chunk.map(\.lossMask))
            let n = batch.scoredCount
            total += Double(try model.crossEntropyLoss(batch)) * Double(n)
            count += n
            i += chunk.count
        }
        model.releaseActivations()
        return count == 0 ? .nan : Float(total / Double(count))
    }

    /// Mean cross-entropy over the batch's scored tokens, with its gradient accumulated into the
    /// model's gradients, computed `microBatchSize` sequences at a time.
    func lossAndBackward(_ batch: TokenBatch, microBatchSize: Int) throws -> Float {
        let n = batch.scoredCount
        guard n > 0 else { return 0 }
        let g = -1 / Float(n)
        var total: Double = 0
        var i = 0
        while i < batch.sequences.count {
            let r = i..<min(i + max(1, microBatchSize), batch.sequences.count)
            let micro = r.count == batch.sequences.count ? batch
                : TokenBatch(sequences: Array(batch.sequences[r]), lossMask: Array(batch.lossMask[r]))
            let lp = try model.tokenLogProbs(micro)
            total += lp.logProbs.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) } }
            try model.backward(micro, dLogProbs: lp.logProbs.map { [Float](repeating: g, count: $0.count) })
            i = r.upperBound
        }
        return Float(-total / Double(n))
    }

    /// Trains for `options.epochs` over `train`, evaluating on `validation`.
    /// `onEvent` may throw (e.g. a failed checkpoint save), which stops the run.
    @discardableResult
    public func run(train: [SFTExample], validation: [SFTExample], options: SFTOptions,
                    onEvent: (SFTEvent) throws -> Void = { _ in }) throws -> SFTSummary {
        guard !train.isEmpty else { throw SFTError.noTrainingData }
        guard options.epochs >= 1, options.batchSize >= 1, (options.microBatchSize ?? 1) >= 1 else {
            throw SFTError.invalidOption("epochs, batch size and micro-batch size must be at least 1")
        }
        guard options.learningRate > 0, options.learningRate.isFinite else { throw SFTError.invalidOption("learning rate must be positive") }
        let start = Date()
        let stepsPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        let totalSteps = stepsPerEpoch * options.epochs
        let schedule = LRSchedule(peak: options.learningRate,
                                  warmupSteps: options.warmupSteps ?? max(0, totalSteps / 20),
                                  totalSteps: totalSteps, decay: options.schedule)
        optimizer.weightDecay = options.weightDecay
        let evalBatch = options.microBatchSize ?? options.batchSize
        let initial = validation.isEmpty ? nil : try loss(validation, batchSize: evalBatch)
        try onEvent(.started(trainExamples: train.count, validationExamples: validation.count,
                             totalSteps: totalSteps, validationLoss: initial))
        var summary = SFTSummary(steps: 0, initialValidationLoss: initial, finalValidationLoss: initial,
                                 bestValidationLoss: initial, finalTrainLoss: .nan, trainedTokens: 0, seconds: 0)
        func evaluate(step: Int, epoch: Int) throws -> Float? {
            guard !validation.isEmpty else { return nil }
            let v = try loss(validation, batchSize: evalBatch)
            summary.finalValidationLoss = v
            summary.bestValidationLoss = min(summary.bestValidationLoss ?? v, v)
            try onEvent(.evaluated(step: step, epoch: epoch, validationLoss: v))
            return v
        }
        var rng = RandomGenerator(seed: options.seed &+ 1)
        var step = 0
        for epoch in 1...options.epochs {
            let order = train.indices.shuffled(using: &rng)
            var epochLoss: Double = 0, epochTokens = 0
            for s in 0..<stepsPerEpoch {
                let t0 = Date()
                let idx = order[(s * options.batchSize)..<min((s + 1) * options.batchSize, order.count)]
                let batch = TokenBatch(sequences: idx.map { train[$0].tokens }, lossMask: idx.map { train[$0].lossMask })
                let lr = schedule.learningRate(at: step)
                model.zeroGrad()
                let l = try lossAndBackward(batch, microBatchSize: options.microBatchSize ?? options.batchSize)
                guard l.isFinite else { throw SFTError.diverged(step: step + 1, loss: l) }
                let norm = options.maxGradNorm > 0 ? clipGradNorm(model.gradients, maxNorm: options.maxGradNorm)
                                                   : clipGradNorm(model.gradients, maxNorm: .infinity)
                optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: lr)
                step += 1
                let trained = batch.scoredCount
                epochLoss += Double(l) * Double(trained); epochTokens += trained
                summary.trainedTokens += trained
                try onEvent(.step(SFTStepMetrics(step: step, totalSteps: totalSteps, epoch: epoch, loss: l, learningRate: lr,
                                                 gradNorm: norm, tokens: batch.sequences.reduce(0) { $0 + $1.count },
                                                 trainedTokens: trained, seconds: Date().timeIntervalSince(t0))))
                if options.evalEvery > 0 && step % options.evalEvery == 0 && s != stepsPerEpoch - 1 {
                    _ = try evaluate(step: step, epoch: epoch)
                }
            }
            model.releaseActivations()
            let trainLoss = Float(epochLoss / Double(max(1, epochTokens)))
            summary.finalTrainLoss = trainLoss
            let v = try evaluate(step: step, epoch: epoch)
            try onEvent(.epochEnded(epoch: epoch, step: step, trainLoss: trainLoss, validationLoss: v))
        }
        summary.steps = step
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}
