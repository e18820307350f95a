import ArgumentParser
import Foundation
import JSON
import TransformerModel

/// `rft sft`: supervised fine-tuning on chat JSONL, loss on assistant tokens only.
struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning on chat conversations (loss on assistant tokens only).",
        discussion: """
        Each line of --data is one conversation, in OpenAI chat format {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]} or Bedrock conversation format {"system": [{"text": "..."}], "messages": [{"role": "user", "content": [{"text": "..."}]}, ...]}. Lines that cannot be used are reported as FILE:LINE and skipped.

        The model starts from --init (an rft checkpoint, or a Hugging Face Llama/Qwen2/Qwen3 directory with its own tokenizer and chat markers), or from scratch with --model-config (a preset or a config.json) and the byte tokenizer. The default is --model-config demo.

        Presets (the same list as rft train's model.preset):
        \(presetLines)

        After every epoch the held-out loss is printed and the checkpoint is written to --out: config.json, model.safetensors, the tokenizer files, optimizer.safetensors and optimizer.json, sft_state.json. Per-step metrics go to --out/sft_metrics.jsonl.

        Examples:
          rft sft --data chats.jsonl --out runs/sft-demo
          rft sft --data chats.jsonl --out runs/small --model-config ref-1m --lr 2e-3
          rft sft --data chats.jsonl --out runs/qwen --init Qwen3-0.6B --lr 2e-5
        """
    )

    @Option(help: "Chat JSONL file to train on.")
    var data: String

    @Option(help: "Directory to write the checkpoint into (created if needed).")
    var out: String

    @Option(help: "Start from this checkpoint directory (rft or Hugging Face).")
    var `init`: String?

    @Option(help: "Train from scratch with this config: a preset (\(ModelConfig.presets.map(\.name).joined(separator: ", "))) or a config.json file.")
    var modelConfig: String?

    @Option(help: "Held-out chat JSONL (default: hold out --val-fraction of --data).")
    var valData: String?

    @Option(help: "Fraction of --data held out for evaluation when --val-data is not given.")
    var valFraction: Double = 0.1

    @Option(help: "Passes over the training data.")
    var epochs: Int = 3

    @Option(help: "Peak learning rate (default: 1e-5 for a Hugging Face --init, 1e-3 otherwise).")
    var lr: Float?

    @Option(help: "Conversations per optimizer step.")
    var batchSize: Int = 8

    @Option(help: "Conversations per forward/backward pass, to bound memory (default: --batch-size).")
    var microBatchSize: Int?

    @Option(help: "Learning-rate warmup steps (default: 5% of all steps).")
    var warmupSteps: Int?

    @Option(help: "Learning-rate decay after warmup: constant, linear or cosine.")
    var schedule: String = "cosine"

    @Option(help: "AdamW weight decay (matrices only).")
    var weightDecay: Float = 0

    @Option(help: "Clip the global gradient norm to this (0: off).")
    var maxGradNorm: Float = 1

    @Option(help: "Cut conversations to this many tokens (default: the model's max_seq_len, at most 1024).")
    var maxSeqLen: Int?

    @Option(help: "Also evaluate every N steps (0: only at the end of each epoch).")
    var evalEvery: Int = 0

    @Option(help: "Print training progress every N steps.")
    var logEvery: Int = 10

    @Option(help: "Seed for initialisation, the train/validation split and shuffling.")
    var seed: UInt64 = 0

    @Flag(help: "Continue the optimizer state saved in --init (optimizer.safetensors).")
    var resume = false

    @Option(help: "After training, greedily answer this many held-out prompts.")
    var samples: Int = 2

    func validate() throws {
        if `init` != nil && modelConfig != nil { throw ValidationError("give either --init or --model-config, not both") }
        if resume && `init` == nil { throw ValidationError("--resume needs --init") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let m = microBatchSize, m < 1 { throw ValidationError("--micro-batch-size must be at least 1") }
        if let lr { guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be positive") } }
        guard (0..<1).contains(valFraction) else { throw ValidationError("--val-fraction must be in [0, 1)") }
        guard LRSchedule.Decay(rawValue: schedule) != nil else { throw ValidationError("--schedule must be constant, linear or cosine") }
        if let m = maxSeqLen, m < 2 { throw ValidationError("--max-seq-len must be at least 2") }
        guard logEvery >= 1, evalEvery >= 0, samples >= 0 else { throw ValidationError("--log-every ≥ 1, --eval-every ≥ 0, --samples ≥ 0") }
    }

    @OptionGroup var threads: ThreadsOption

    func run() throws {
        threads.apply()
        let outURL = URL(fileURLWithPath: out)
        // Read the data first, so a bad path fails before any model is built.
        let trainRecords = try ChatDataset.load(URL(fileURLWithPath: data))
        let valRecords = try valData.map { try ChatDataset.load(URL(fileURLWithPath: $0)) }

        // Model, tokenizer and chat format.
        let model: Transformer, tokenizer: any Tokenizer, format: ChatFormat
        var optimizer: AdamW?
        var pretrained = false
        if let initDir = `init` {
            let ckpt = try ModelCheckpoint(directory: URL(fileURLWithPath: initDir))
            model = try ckpt.loadTransformer()
            tokenizer = ckpt.tokenizer; format = ckpt.chatFormat
            pretrained = ckpt.isHuggingFace
            if resume {
                let opt = AdamW(layout: model.layout)
                try OptimizerCheckpoint.load(into: opt, layout: model.layout, from: ckpt.directory)
                optimizer = opt
            }
            log("loaded \(initDir) (\(ckpt.isHuggingFace ? "Hugging Face" : "rft") checkpoint, \(model.parameterCount) parameters, chat format \(format.rawValue))")
        } else {
            let config = try Self.config(named: modelConfig ?? "demo")
            tokenizer = ByteTokenizer(); format = .byte
            guard config.vocabSize >= tokenizer.vocabSize else {
                throw ValidationError("--model-config: vocab_size \(config.vocabSize) is below the byte tokenizer's \(tokenizer.vocabSize)")
            }
            model = Transformer(config: config, seed: seed)
            log("new model from \(modelConfig ?? "demo"): \(model.parameterCount) parameters, byte tokenizer")
        }
        let template = try ChatTemplate(tokenizer: tokenizer, format: format)
        let seqLen = min(maxSeqLen ?? min(model.config.maxSeqLen, 1024), model.config.maxSeqLen)

        // Render conversations; report every line that cannot be used.
        var lastUserMessage: [String: String] = [:]
        func render(_ loaded: (records: [ChatRecord], issues: [ChatDatasetIssue]), path: String) -> [SFTExample] {
            let (examples, renderIssues) = SupervisedFineTuning.prepare(loaded.records, template: template, file: path, maxSeqLen: seqLen)
            for r in loaded.records {
                lastUserMessage["\(path):\(r.line)"] = r.messages.last(where: { $0.role == "user" })?.content
            }
            let issues = (loaded.issues + renderIssues).sorted { $0.line < $1.line }
            for issue in issues.prefix(20) { log("skipped \(issue)") }
            if issues.count > 20 { log("skipped \(issues.count - 20) more lines of \(path)") }
            let cut = examples.filter(\.truncated).count
            if cut > 0 { log("\(cut) conversations of \(path) cut to \(seqLen) tokens") }
            return examples
        }
        let all = render(trainRecords, path: data)
        guard !all.isEmpty else { throw SFTError.noTrainingData }
        let train: [SFTExample], validation: [SFTExample]
        if let valData, let valRecords {
            var rng = RandomGenerator(seed: seed)
            train = all.shuffled(using: &rng)
            validation = render(valRecords, path: valData)
        } else {
            (train, validation) = SupervisedFineTuning.split(all, validationFraction: valFraction, seed: seed)
        }

        var options = SFTOptions()
        options.epochs = epochs; options.learningRate = lr ?? (pretrained ? 1e-5 : 1e-3); options.batchSize = batchSize
        options.microBatchSize = microBatchSize
        options.warmupSteps = warmupSteps; options.schedule = LRSchedule.Decay(rawValue: schedule)!
        options.weightDecay = weightDecay; options.maxGradNorm = maxGradNorm; options.evalEvery = evalEvery
        options.seed = seed

        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let metricsURL = outURL.appendingPathComponent("sft_metrics.jsonl")
        _ = FileManager.default.createFile(atPath: metricsURL.path, contents: nil)
        let metrics = try FileHandle(forWritingTo: metricsURL)
        defer { try? metrics.close() }
        func record(_ fields: JSONObject) {
            metrics.write(Data((JSONValue.object(fields).jsonString(sortedKeys: true) + "\n").utf8))
        }

        let sft = SupervisedFineTuning(model: model, optimizer: optimizer)
        var windowLoss: Double = 0, windowTokens = 0, windowTrained = 0, windowSeconds: Double = 0
        let summary = try sft.run(train: train, validation: validation, options: options) { event in
            switch event {
            case let .started(nTrain, nVal, steps, v):
                log("training on \(nTrain) conversations, \(nVal) held out; \(steps) steps of \(batchSize), peak lr \(options.learningRate)"
                    + (v.map { "; held-out loss before training \(fmt($0))" } ?? ""))
                record(["event": "start", "train": .number(Double(nTrain)), "validation": .number(Double(nVal)),
                        "steps": .number(Double(steps)), "validation_loss": .num(v.map(Double.init))])
            case let .step(m):
                windowLoss += Double(m.loss) * Double(m.trainedTokens); windowTrained += m.trainedTokens
                windowTokens += m.tokens; windowSeconds += m.seconds
                record(["event": "step", "step": .number(Double(m.step)), "epoch": .number(Double(m.epoch)),
                        "loss": .num(Double(m.loss)), "lr": .num(Double(m.learningRate)), "grad_norm": .num(Double(m.gradNorm)),
                        "tokens": .number(Double(m.tokens)), "seconds": .num(m.seconds)])
                if m.step % logEvery == 0 || m.step == m.totalSteps {
                    log("step \(m.step)/\(m.totalSteps) epoch \(m.epoch) loss \(fmt(Float(windowLoss / Double(max(1, windowTrained)))))"
                        + " lr \(String(format: "%.2e", m.learningRate)) grad-norm \(fmt(m.gradNorm))"
                        + " \(Int(Double(windowTokens) / max(windowSeconds, 1e-9))) tok/s")
                    windowLoss = 0; windowTokens = 0; windowTrained = 0; windowSeconds = 0
                }
            case let .evaluated(step, epoch, v):
                log("step \(step) epoch \(epoch) held-out loss \(fmt(v))")
                record(["event": "eval", "step": .number(Double(step)), "epoch": .number(Double(epoch)), "validation_loss": .num(Double(v))])
            case let .epochEnded(epoch, step, trainLoss, v):
                try ModelCheckpoint.save(model, tokenizer: tokenizer, chatFormat: format, to: outURL)
                try OptimizerCheckpoint.save(sft.optimizer, layout: model.layout, to: outURL)
                let state: JSONValue = ["epoch": .number(Double(epoch)), "step": .number(Double(step)),
                                        "train_loss": .num(Double(trainLoss)), "validation_loss": .num(v.map(Double.init)),
                                        "data": .string(data)]
                try Data(state.jsonString(sortedKeys: true, pretty: true).utf8)
                    .write(to: outURL.appendingPathComponent("sft_state.json"), options: .atomic)
                log("epoch \(epoch) train loss \(fmt(trainLoss)); saved \(out)")
            }
        }

        for example in validation.prefix(samples) {
            guard let cut = example.lossMask.firstIndex(of: true) else { continue }
            let prompt = Array(example.tokens[..<cut])
            var rng = RandomGenerator(seed: seed)
            let completion = try model.sample(prompts: [prompt], options: SamplingOptions(
                maxNewTokens: min(64, model.config.maxSeqLen - prompt.count), temperature: 0,
                eosTokenIDs: Set(template.stopTokenIDs)), rng: &rng)[0][0]
            let asked = lastUserMessage[example.source] ?? ""
            print("sample (\(example.source)): \(asked.debugDescription) → \(tokenizer.decode(completion.tokens, skipSpecial: true).debugDescription)")
        }
        let before = summary.initialValidationLoss.map(fmt) ?? "-", after = summary.finalValidationLoss.map(fmt) ?? "-"
        print("done: \(summary.steps) steps in \(String(format: "%.1f", summary.seconds)) s; held-out loss \(before) → \(after); checkpoint \(out)")
    }

    /// A preset name or a config.json (rft's or Hugging Face's).
    static func config(named name: String) throws -> ModelConfig {
        if let preset = ModelConfig.preset(named: name) { return preset.config }
        let url = URL(fileURLWithPath: name)
        guard let data = try? Data(contentsOf: url) else {
            throw ValidationError("--model-config: '\(name)' is neither a preset (\(ModelConfig.presets.map(\.name).joined(separator: ", "))) nor a readable file")
        }
        if let json = try? JSONValue.parse(data), let object = json.objectValue, json["hidden_size"] != nil {
            return try ModelConfig(huggingFace: object.foundationObject, path: url.path)
        }
        do { return try JSONDecoder().decode(ModelConfig.self, from: data) } catch {
            throw ModelIOError.malformed(path: url.path, detail: "not a model config (\(error))")
        }
    }
}

private func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

private func fmt(_ x: Float) -> String { String(format: "%.4f", x) }
