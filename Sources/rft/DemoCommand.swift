import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import JSON
import TransformerModel

/// `rft demo`: the whole loop on the embedded default, in under 5 minutes on 2 cores (after the build).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate arithmetic word problems, SFT a small base model, then improve it with GRPO graded by templates/math in the sandbox.",
        discussion: """
        Steps: (1) generate Bedrock-format arithmetic word problems (train, validation, an
        in-distribution test split and an out-of-distribution split with unseen names, objects and
        phrasings; no question in two splits); (2) build a small base model (byte tokenizer) with a
        short SFT, cached in RUN_DIR/base; (3) evaluate the baseline with templates/math in the
        sandbox; (4) run GRPO with live progress; (5) evaluate again and print baseline and final
        reward on validation, test and OOD side by side, each with its standard error.
        Everything lands in the run directory (default runs/demo); `rft runs show runs/demo` and
        `rft report runs/demo` look at it afterwards.

        Examples:
          rft demo
          rft demo --run-dir /tmp/demo --steps 100 --seed 3
          rft demo --threads 1          # the model on one core (results depend on the seed and thread count)
          rft demo --run-dir /tmp/pool --seed 1001 --validation-prompts 2000 --data-only   # just the prompts
        """
    )

    @Option(help: "Run directory.") var runDir = "runs/demo"
    @Option(help: "Directory holding templates/ (default: found from the working directory or the binary).") var templates: String?
    @Option(help: "GRPO steps.") var steps = 700
    @Option(help: "Worked examples for the base model's SFT at most (one epoch; it stops earlier at --sft-target-loss).") var sftExamples = 12000
    @Option(help: "Stop the base model's SFT once its held-out loss is at or below this (measured every 20 steps on 200 held-out answers; 0 runs all examples).") var sftTargetLoss: Float = 0.55
    @Option(help: "Peak SFT learning rate.") var sftLearningRate: Float = 2e-3
    @Option(help: "The base model's shape, trained from scratch: a preset (\(ModelConfig.presets.map(\.name).joined(separator: ", "))) or a config.json file.") var modelConfig = "ref-1m"
    @Option(help: "Peak GRPO learning rate, reached after the warm-up.") var learningRate = 1e-4
    @Option(help: "GRPO learning-rate schedule after the warm-up: constant, linear or cosine (the last two decay to 0 at the last step).") var lrScheduler = "constant"
    @Option(help: "GRPO warm-up steps (linear).") var warmupSteps = 10
    @Option(help: "Prompts per GRPO step.") var batchSize = 16
    @Option(help: "Completions per prompt (G).") var numGenerations = 8
    @Option(help: "Rollout sampling temperature.") var temperature = 1.0
    @Option(help: "Validation temperature (0 = greedy).") var evalTemperature = 0.0
    @Option(help: "Policy updates per batch of rollouts (TRL's num_iterations; more than 1 reuses each batch with the clipped ratio).") var numIterations = 1
    @Option(help: "Loss variant: grpo, dr_grpo or dapo.") var lossType = "dapo"
    @Option(help: "KL coefficient against the base model (0, the default, skips the reference forward).") var beta = 0.0
    @Flag(inversion: .prefixedNo, help: "Drop groups whose completions all score the same and sample more prompts (DAPO).") var dynamicSampling = true
    @Option(help: "Training prompts.") var trainPrompts = 4000
    @Option(help: "Validation prompts (they choose the best checkpoint).") var validationPrompts = 200
    @Option(help: "Held-out in-distribution test prompts (scored before and after training only).") var testPrompts = 600
    @Option(help: "Held-out out-of-distribution prompts: names, objects and phrasings never seen in SFT or training.") var oodPrompts = 600
    @Option(help: "Steps between validation evaluations (each scores the validation prompts greedily; the best one's checkpoint is kept).") var evalInterval = 40
    @Option(help: "Prompts sampled per model call; graders score one chunk while the model samples the next.") var samplingChunk = 4
    @Option(help: "Seed for data, model and sampling.") var seed = 7
    @Flag(help: "Rebuild the base model even when RUN_DIR/base exists.") var rebuildBase = false
    @Flag(help: "Write the train, validation, test and OOD splits to RUN_DIR/data and stop (no SFT, no GRPO).") var dataOnly = false

    @OptionGroup var degraded: DegradedModeOption
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        _ = try SFTCommand.config(named: modelConfig)
        guard LRScheduler(rawValue: lrScheduler) != nil else {
            throw ValidationError("--lr-scheduler must be one of \(LRScheduler.allCases.map(\.rawValue).joined(separator: ", ")), not '\(lrScheduler)'")
        }
    }

    func run() throws {
        beginLongRun(threads: threads, degraded: degraded)
        let started = Date()
        let dir = URL(fileURLWithPath: runDir).standardized
        let dataDir = dir.appendingPathComponent("data"), baseDir = dir.appendingPathComponent("base")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let math = Self.findTemplate("math", explicit: templates)
        if math == nil && !dataOnly {
            printError("templates/math not found; run from the repository root or pass --templates DIR"); throw ExitCode(1)
        }
        let shape = try SFTCommand.config(named: modelConfig)
        let size = String(format: "%.1fM", Double(shape.parameterCount) / 1e6)
        print("rft demo: arithmetic word problems, a \(size)-parameter byte-level model, rewards from templates/math in the sandbox\n")

        // 1. Data: five splits that share no question text.
        let splits = ArithmeticProblems.splits(seed: UInt64(seed), sft: sftExamples, train: trainPrompts,
                                               validation: validationPrompts, test: testPrompts, ood: oodPrompts)
        let trainProblems = splits.train, sftProblems = splits.sft
        func write(_ problems: [ArithmeticProblem], _ name: String) throws -> URL {
            let url = dataDir.appendingPathComponent("\(name).jsonl")
            try Self.writeJSONL(ArithmeticProblems.records(problems, prefix: name), to: url)
            return url
        }
        let trainURL = try write(splits.train, "train"), valURL = try write(splits.validation, "validation")
        let testURL = try write(splits.test, "test"), oodURL = try write(splits.ood, "ood")
        print("[1/5] data: \(trainPrompts) train, \(validationPrompts) validation, \(testPrompts) test and \(oodPrompts) out-of-distribution")
        print("      prompts in Bedrock format → \(dataDir.path); no question appears in two splits, and the OOD split's")
        print("      names, objects and phrasings never appear in SFT or training")
        print("      e.g. \"\(trainProblems[0].question)\" (reference_answer \(trainProblems[0].answer))")
        print("      OOD: \"\(splits.ood[0].question)\"")
        guard !dataOnly, let math else { print("      --data-only: stopping here; nothing was trained"); return }

        // 2. Base model (cached).
        // The cached base is reused only when it was built from the same data and settings.
        let recipeURL = baseDir.appendingPathComponent("demo-base.json")
        let recipe: JSONValue = ["task": .string(ArithmeticProblems.version), "seed": .number(Double(seed)),
                                 "sft_examples": .number(Double(sftExamples)), "sft_learning_rate": .number(Double(sftLearningRate)),
                                 "sft_target_loss": .number(Double(sftTargetLoss)),
                                 "model_config": try JSONValue.parse(Data(JSONEncoder().encode(shape)))]
        let cached = FileManager.default.contents(atPath: recipeURL.path).flatMap { try? JSONValue.parse($0) }
        if cached == recipe && FileManager.default.fileExists(atPath: baseDir.appendingPathComponent("model.safetensors").path) && !rebuildBase {
            print("[2/5] base model: cached in \(baseDir.path) (--rebuild-base to train it again)")
        } else {
            try buildBase(sftProblems, shape: shape, size: size, at: baseDir)
            try Data(recipe.jsonString(sortedKeys: true).utf8).write(to: recipeURL)
        }

        // 3-5. Baseline, GRPO, final evaluation: the trainer does all three.
        let config = try TrainConfig.parse([
            "data": ["train": .string(trainURL.path), "validation": .string(valURL.path),
                     "test": ["test": .string(testURL.path), "ood": .string(oodURL.path)]],
            "model": ["checkpoint": .string(baseDir.path)],
            "rewards": ["spec": .string(math.path)],
            "output_dir": .string(dir.path),
            "hyperparameters": [
                "max_steps": .number(Double(steps)), "batch_size": .number(Double(batchSize)),
                "num_generations": .number(Double(numGenerations)), "num_iterations": .number(Double(numIterations)),
                "learning_rate": .number(learningRate), "lr_scheduler": .string(lrScheduler), "warmup_steps": .number(Double(warmupSteps)),
                "max_completion_length": 10, "temperature": .number(temperature), "beta": .number(beta),
                "loss_type": .string(lossType), "dynamic_sampling": .bool(dynamicSampling), "mask_truncated_completions": false,
                "eval_interval": .number(Double(evalInterval)), "save_interval": 50, "keep_last": 2, "log_samples_interval": 10,
                "eval_temperature": .number(evalTemperature), "pass_threshold": 1.0, "seed": .number(Double(seed)), "sampling_chunk": .number(Double(samplingChunk)),
            ],
        ])
        print("[3/5] baseline: greedy answers to the validation, test and OOD prompts, graded by templates/math in the sandbox")
        print("[4/5] GRPO: \(steps) steps × \(batchSize) prompts × \(numGenerations) completions at temperature \(temperature),")
        print("      learning rate \(learningRate) (\(lrScheduler)) after \(warmupSteps) warm-up steps, loss \(lossType), β = \(beta) (KL to the base model)"
              + (dynamicSampling ? "," : "."))
        if dynamicSampling {
            print("      dynamic sampling: prompts whose \(numGenerations) completions all score the same teach nothing and are replaced.")
        }
        var run = TrainingRun(config: config)
        run.header = false
        let summary = try run.start(resume: false)
        guard summary.status == .completed else { throw ExitCode(1) }

        // Side by side: validation chose the checkpoint and the settings; test and OOD never did.
        print("\n[5/5] mean reward before and after GRPO (greedy; ± one standard error):")
        print("                         prompts   baseline          final             ratio")
        func row(_ label: String, _ n: Int, _ b: Double?, _ bse: Double?, _ f: Double?, _ fse: Double?) {
            let cell = { (v: Double?, se: Double?) -> String in
                guard let v else { return "-".padding(toLength: 18, withPad: " ", startingAt: 0) }
                return String(format: "%.3f ± %.3f", v, se ?? .nan).padding(toLength: 18, withPad: " ", startingAt: 0)
            }
            let ratio = (b != nil && f != nil && b! > 0) ? String(format: "%.2f×", f! / b!) : "-"
            print(label.padding(toLength: 25, withPad: " ", startingAt: 0) + String(format: "%7d   ", n) + cell(b, bse) + cell(f, fse) + ratio)
        }
        let runDir = RunDirectory(dir.path)
        let baseline = runDir.readJSON("baseline.json"), final = runDir.readJSON("final_eval.json")
        let se = { (j: JSONValue?) -> Double? in
            guard let s = j?["reward_std"]?.doubleValue, let n = j?["samples"]?.doubleValue, n > 0 else { return nil }
            return s / n.squareRoot()
        }
        row("validation", validationPrompts, summary.baselineValReward, se(baseline), summary.finalValReward, se(final))
        for t in summary.testSplits {
            row(t.name == "ood" ? "out-of-distribution test" : "\(t.name) (in-distribution)", t.prompts,
                t.baselineReward, t.baselineStderr, t.finalReward, t.finalStderr)
        }
        print("      validation chose the best checkpoint and the demo's settings; the test splits never chose anything.")
        print("\nrun directory: \(dir.path)  (\(Int(Date().timeIntervalSince(started)))s)")
        print("  summary.json, metrics.jsonl (per step), samples.jsonl (completions and scores), baseline.json, final_eval.json,")
        print("  checkpoints/best and checkpoints/final, report.html, base/ (the SFT model), data/")
        print("  next: rft runs show \(dir.path)   ·   tensorboard --logdir \(dir.path)")
    }

    func buildBase(_ problems: [ArithmeticProblem], shape: ModelConfig, size: String, at dir: URL) throws {
        let tokenizer = ByteTokenizer()
        let template = try ChatTemplate(tokenizer: tokenizer)
        let model = Transformer(config: shape, seed: UInt64(seed))
        let examples = try ArithmeticProblems.conversations(problems).enumerated().map { i, messages -> SFTExample in
            let conv = try template.conversation(messages)
            var mask = conv.lossMask
            mask[0] = false
            return SFTExample(tokens: conv.tokens, lossMask: mask, source: "sft:\(i + 1)")
        }
        // 5% held out, at most 200 (the loss is measured every 20 steps).
        let (train, val) = SupervisedFineTuning.split(examples, validationFraction: min(0.05, 200 / Double(max(1, examples.count))),
                                                      seed: UInt64(seed))
        var options = SFTOptions()
        options.epochs = 1; options.batchSize = 16; options.learningRate = sftLearningRate; options.seed = UInt64(seed)
        options.evalEvery = sftTargetLoss > 0 ? 20 : 0
        print("[2/5] base model: SFT of a fresh \(size)-parameter model (\(modelConfig)) on correct worked answers (\(train.count) at most,")
        print("      until the held-out loss reaches \(sftTargetLoss)): \"\(problems[0].question)\" → \"\(problems[0].worked)\".")
        print("      It learns the answer format and some of the arithmetic, not all of it: a base with some but not")
        print("      full success, the case RFT is for.")
        let sft = SupervisedFineTuning(model: model)
        let t0 = Date()
        var initial: Float?, last: Float?, steps = 0
        /// Thrown from the event callback to end the SFT where the model is.
        struct ReachedTarget: Error {}
        do {
            let summary = try sft.run(train: train, validation: val, options: options) { event in
                switch event {
                case .started(_, _, _, let loss): initial = loss
                case .step(let m):
                    steps = m.step
                    if m.step % 25 == 0 || m.step == m.totalSteps { print(String(format: "      SFT step %d/%d  loss %.3f", m.step, m.totalSteps, m.loss)) }
                case .evaluated(_, _, let loss):
                    last = loss
                    if sftTargetLoss > 0 && loss <= sftTargetLoss { throw ReachedTarget() }
                default: break
                }
            }
            last = summary.finalValidationLoss
        } catch is ReachedTarget {}
        try ModelCheckpoint.save(model, tokenizer: tokenizer, to: dir)
        print(String(format: "      held-out loss %.3f → %.3f after %d steps (%d examples) in %.0fs; saved to %@", initial ?? .nan,
                     last ?? .nan, steps, steps * options.batchSize, Date().timeIntervalSince(t0), dir.path))
    }

    static func writeJSONL(_ lines: [JSONValue], to url: URL) throws {
        try Data((lines.map { $0.jsonString(sortedKeys: true) }.joined(separator: "\n") + "\n").utf8).write(to: url)
    }

    /// templates/NAME under --templates, the working directory, or next to the binary's repository.
    static func findTemplate(_ name: String, explicit: String?) -> URL? {
        var roots: [URL] = []
        if let explicit { roots.append(URL(fileURLWithPath: explicit)) }
        roots.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        var bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 { roots.append(bin); bin = bin.deletingLastPathComponent() }
        for r in roots {
            for c in [r.appendingPathComponent("templates/\(name)"), r.appendingPathComponent(name)]
                where FileManager.default.fileExists(atPath: c.appendingPathComponent("grader.json").path) { return c }
        }
        return nil
    }
}
