import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import TransformerModel

/// `rft demo`: the whole loop on the embedded default, in a few minutes on a laptop-class CPU.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate arithmetic word problems, SFT a small base model, then improve it with GRPO graded by templates/math in the sandbox.",
        discussion: """
        Steps: (1) generate a Bedrock-format dataset of arithmetic word problems; (2) build a small
        base model (1.1M parameters, byte tokenizer) with a short SFT, cached in RUN_DIR/base;
        (3) evaluate the baseline with templates/math in the sandbox; (4) run GRPO with live progress;
        (5) evaluate again and print baseline and final validation reward side by side.
        Everything lands in the run directory (default runs/demo); `rft runs show runs/demo` and
        `rft report runs/demo` look at it afterwards.

        Examples:
          rft demo
          rft demo --run-dir /tmp/demo --steps 100 --seed 3
        """
    )

    @Option(help: "Run directory.") var runDir = "runs/demo"
    @Option(help: "Directory holding templates/ (default: found from the working directory or the binary).") var templates: String?
    @Option(help: "GRPO steps.") var steps = 300
    @Option(help: "Worked examples for the base model's SFT (one epoch; fewer leave it less trained).") var sftExamples = 1500
    @Option(help: "Peak SFT learning rate.") var sftLearningRate: Float = 1e-3
    @Option(help: "GRPO learning rate (constant after the warm-up).") var learningRate = 1e-4
    @Option(help: "GRPO warm-up steps (linear).") var warmupSteps = 10
    @Option(help: "Prompts per GRPO step.") var batchSize = 16
    @Option(help: "Completions per prompt (G).") var numGenerations = 8
    @Option(help: "Rollout sampling temperature.") var temperature = 0.7
    @Option(help: "Validation temperature (0 = greedy).") var evalTemperature = 0.0
    @Option(help: "Loss variant: grpo, dr_grpo or dapo.") var lossType = "dapo"
    @Option(help: "KL coefficient against the base model (0 skips the reference forward).") var beta = 0.04
    @Flag(inversion: .prefixedNo, help: "Drop groups whose completions all score the same and sample more prompts (DAPO).") var dynamicSampling = true
    @Option(help: "Training prompts.") var trainPrompts = 200
    @Option(help: "Validation prompts.") var validationPrompts = 200
    @Option(help: "Seed for data, model and sampling.") var seed = 7
    @Flag(help: "Rebuild the base model even when RUN_DIR/base exists.") var rebuildBase = false

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        setvbuf(stdout, nil, _IOLBF, 0)  // progress lines appear as they happen, also in a pipe
        let started = Date()
        let dir = URL(fileURLWithPath: runDir).standardized
        let dataDir = dir.appendingPathComponent("data"), baseDir = dir.appendingPathComponent("base")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        guard let math = Self.findTemplate("math", explicit: templates) else {
            printError("templates/math not found; run from the repository root or pass --templates DIR"); throw ExitCode(1)
        }
        print("rft demo: arithmetic word problems, a 1.1M-parameter byte-level model, rewards from templates/math in the sandbox\n")

        // 1. Data.
        let trainProblems = ArithmeticProblems.generate(count: trainPrompts, seed: UInt64(seed))
        let valProblems = ArithmeticProblems.generate(count: validationPrompts, seed: UInt64(seed) &+ 1)
        let sftProblems = ArithmeticProblems.generate(count: sftExamples, seed: UInt64(seed) &+ 2)
        let trainURL = dataDir.appendingPathComponent("train.jsonl"), valURL = dataDir.appendingPathComponent("validation.jsonl")
        try Self.writeJSONL(ArithmeticProblems.records(trainProblems, prefix: "train"), to: trainURL)
        try Self.writeJSONL(ArithmeticProblems.records(valProblems, prefix: "val"), to: valURL)
        print("[1/5] data: \(trainPrompts) train and \(validationPrompts) validation prompts in Bedrock format → \(dataDir.path)")
        print("      e.g. \"\(trainProblems[0].question)\" (reference_answer \(trainProblems[0].answer))")

        // 2. Base model (cached).
        let baseReady = FileManager.default.fileExists(atPath: baseDir.appendingPathComponent("model.safetensors").path)
        if baseReady && !rebuildBase {
            print("[2/5] base model: cached in \(baseDir.path) (--rebuild-base to train it again)")
        } else {
            try buildBase(sftProblems, at: baseDir)
        }

        // 3-5. Baseline, GRPO, final evaluation: the trainer does all three.
        let config = try TrainConfig.parse([
            "data": ["train": .string(trainURL.path), "validation": .string(valURL.path)],
            "model": ["checkpoint": .string(baseDir.path)],
            "rewards": ["spec": .string(math.path)],
            "output_dir": .string(dir.path),
            "hyperparameters": [
                "max_steps": .number(Double(steps)), "batch_size": .number(Double(batchSize)),
                "num_generations": .number(Double(numGenerations)),
                "learning_rate": .number(learningRate), "lr_scheduler": "constant", "warmup_steps": .number(Double(warmupSteps)),
                "max_completion_length": 10, "temperature": .number(temperature), "beta": .number(beta),
                "loss_type": .string(lossType), "dynamic_sampling": .bool(dynamicSampling), "mask_truncated_completions": false,
                "eval_interval": 20, "save_interval": 50, "keep_last": 2, "log_samples_interval": 10,
                "eval_temperature": .number(evalTemperature), "pass_threshold": 1.0, "seed": .number(Double(seed)), "sampling_chunk": 4,
            ],
        ])
        print("[3/5] baseline: greedy answers to the \(validationPrompts) validation prompts, graded by templates/math in the sandbox")
        print("[4/5] GRPO: \(steps) steps × \(batchSize) prompts × \(numGenerations) completions at temperature \(temperature),")
        print("      learning rate \(learningRate) after \(warmupSteps) warm-up steps, loss \(lossType), β = \(beta) (KL to the base model)"
              + (dynamicSampling ? "," : "."))
        if dynamicSampling {
            print("      dynamic sampling: prompts whose \(numGenerations) completions all score the same teach nothing and are replaced.")
        }
        var run = TrainingRun(config: config)
        run.header = false
        let summary = try run.start(resume: false)
        guard summary.status == .completed else { throw ExitCode(1) }

        // Side by side.
        let runDir = RunDirectory(dir.path)
        let baseline = runDir.readJSON("baseline.json"), final = runDir.readJSON("final_eval.json")
        print("\n[5/5] validation, before and after GRPO (\(validationPrompts) prompts, greedy):")
        print("                     baseline   final")
        func row(_ label: String, _ key: String, percent: Bool = false) {
            let f = { (j: JSONValue?) -> String in
                guard let v = j?[key]?.doubleValue else { return "     -" }
                return percent ? String(format: "%8.1f%%", v * 100) : String(format: "%9.3f", v)
            }
            print(label.padding(toLength: 19, withPad: " ", startingAt: 0) + f(baseline) + "  " + f(final))
        }
        row("mean reward", "mean_reward")
        row("pass rate", "pass_rate", percent: true)
        if let b = summary.baselineValReward, let f = summary.finalValReward, b > 0 {
            print(String(format: "improvement:          %.2f× the baseline's validation reward", f / b))
            // Each reward is 0 or 1, so a mean over N prompts has a standard error of √(p(1−p)/N).
            let se = { (p: Double) in (p * (1 - p) / Double(validationPrompts)).squareRoot() }
            print(String(format: "noise:                ±%.3f / ±%.3f (one standard error over %d prompts)", se(b), se(f), validationPrompts))
        }
        print("\nrun directory: \(dir.path)  (\(Int(Date().timeIntervalSince(started)))s)")
        print("  summary.json, metrics.jsonl (per step), samples.jsonl (completions and scores), baseline.json, final_eval.json,")
        print("  checkpoints/best and checkpoints/final, report.html, base/ (the SFT model), data/")
        print("  next: rft runs show \(dir.path)   ·   tensorboard --logdir \(dir.path)")
    }

    func buildBase(_ problems: [ArithmeticProblem], at dir: URL) throws {
        let tokenizer = ByteTokenizer()
        let template = try ChatTemplate(tokenizer: tokenizer)
        let model = Transformer(config: .ref1m, seed: UInt64(seed))
        let examples = try ArithmeticProblems.conversations(problems).enumerated().map { i, messages -> SFTExample in
            let conv = try template.conversation(messages)
            var mask = conv.lossMask
            mask[0] = false
            return SFTExample(tokens: conv.tokens, lossMask: mask, source: "sft:\(i + 1)")
        }
        let (train, val) = SupervisedFineTuning.split(examples, validationFraction: 0.05, seed: UInt64(seed))
        var options = SFTOptions()
        options.epochs = 1; options.batchSize = 16; options.learningRate = sftLearningRate; options.seed = UInt64(seed)
        print("[2/5] base model: one short epoch of SFT of a fresh 1.1M-parameter model on \(train.count) correct worked answers")
        print("      (\"\(problems[0].question)\" → \"\(problems[0].worked)\"). It learns the answer format and some of")
        print("      the arithmetic, not all of it: a base with some but not full success, the case RFT is for.")
        let sft = SupervisedFineTuning(model: model)
        let t0 = Date()
        let summary = try sft.run(train: train, validation: val, options: options) { event in
            if case .step(let m) = event, m.step % 25 == 0 || m.step == m.totalSteps {
                print(String(format: "      SFT step %d/%d  loss %.3f", m.step, m.totalSteps, m.loss))
            }
        }
        try ModelCheckpoint.save(model, tokenizer: tokenizer, to: dir)
        print(String(format: "      held-out loss %.3f → %.3f in %.0fs; saved to %@", summary.initialValidationLoss ?? .nan,
                     summary.finalValidationLoss ?? .nan, Date().timeIntervalSince(t0), dir.path))
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
