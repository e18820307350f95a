import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import JSON
import RFTClient
import TransformerModel

/// `rft eval`: the baseline before any training (Bedrock's "evaluate before training").
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint or an OpenAI-compatible endpoint on prompts with the same graders as training.",
        discussion: """
        Prints the reward histogram, mean reward, pass rate (and pass@k), grader errors by type, and a
        recommendation: grader failing on most samples → fix it first; mean near 0 → do SFT first;
        above 0.95 → RFT is probably unnecessary; otherwise go. Exits 1 when more than
        --max-grader-error-rate of the samples failed grading.

        Examples:
          rft eval --model runs/demo/base --data data/val.jsonl --rewards templates/math
          rft eval --endpoint http://localhost:8000 --model-name Qwen/Qwen3-8B --data val.jsonl --rewards rewards.json --pass-k 4
        """
    )

    @Option(help: "A checkpoint directory (rft or Hugging Face).") var model: String?
    @Option(help: "Base URL of an OpenAI-compatible server (vLLM, Ollama, llama.cpp, rft serve).") var endpoint: String?
    @Option(help: "Model name to request from --endpoint.") var modelName: String?
    @Option(help: "Environment variable holding the endpoint's API key.") var apiKeyEnv: String?
    @Option(help: "Prompts (Bedrock JSONL).") var data: String
    @Option(help: "Reward spec file or grader directory.") var rewards: String
    @Option(help: "Sampling temperature (0 = greedy).") var temperature = 0.0
    @Option(help: "Also sample K completions per prompt (temperature 1) for pass@k.") var passK: Int?
    @Option(help: "A sample passes when its reward is at least this.") var passThreshold = 1.0
    @Option(help: "Max new tokens per completion (default: 256, or half the model's context when that is less).") var maxTokens: Int?
    @Option(help: "Exit 1 when more than this share of samples failed grading (0-1).") var maxGraderErrorRate = 0.5
    @Option(help: "Evaluate only the first N prompts.") var limit: Int?
    @Option(help: "Write the report as JSON to this file.") var out: String?
    @Option(help: "Seed.") var seed = 0
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        if (model == nil) == (endpoint == nil) { throw ValidationError("give either --model CKPT or --endpoint URL") }
        if endpoint != nil && modelName == nil { throw ValidationError("--endpoint needs --model-name") }
        if let m = maxTokens, m < 1 { throw ValidationError("--max-tokens must be at least 1, got \(m)") }
        guard (0...1).contains(maxGraderErrorRate) else {
            throw ValidationError("--max-grader-error-rate must be between 0 and 1, got \(maxGraderErrorRate)")
        }
    }

    @OptionGroup var degraded: DegradedModeOption

    @OptionGroup var threads: ThreadsOption

    func run() throws {
        threads.apply()
        degraded.apply()
        do {
            var records = try PromptDataset.load(data)
            if let limit { records = Array(records.prefix(limit)) }
            let scorer = try TrainingSetup.scorer(.spec(path: rewards))
            defer { scorer.shutdown() }
            let sampler: CompletionSampler
            if let model {
                var h = Hyperparameters()
                if let maxTokens { h.maxCompletionLength = maxTokens; h.maxCompletionLengthIsDefault = false }
                let policy = try TrainingSetup.policy(.checkpoint(path: URL(fileURLWithPath: model).path), hyperparameters: h,
                                                      lengthOption: "--max-tokens")
                TrainingSetup.fitCompletionLength(&h, maxSeqLen: policy.model.config.maxSeqLen)
                let maxNew = h.maxCompletionLength
                sampler = { rs, n, t, s in
                    try policy.sampleTexts(prompts: rs.map { policy.encodePrompt($0.messages) }, count: n,
                                           settings: SamplingSettings(temperature: t, maxNewTokens: maxNew), seed: s)
                }
            } else {
                guard let url = URL(string: endpoint!) else { throw ValidationError("--endpoint is not a URL") }
                let key = apiKeyEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
                let ep = ChatEndpoint(baseURL: url, model: modelName!, apiKey: key, maxTokens: maxTokens ?? 256)
                sampler = { rs, n, t, s in
                    try rs.enumerated().map { i, r in
                        try ep.complete(r.messages.map { ($0.role, $0.content) }, count: n, temperature: t, seed: s &+ UInt64(i))
                    }
                }
            }
            let report = try Evaluator(scorer: scorer, passThreshold: passThreshold, maxErrorRate: maxGraderErrorRate)
                .evaluate(records, sampler: sampler, temperature: temperature, passK: passK, passKTemperature: 1, seed: UInt64(seed))
            let text = JSONValue.from(report).jsonString(sortedKeys: true, pretty: true)
            if let out { try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: out)) }
            if json { print(text) } else { print(report.rendered(title: "rft eval \(model ?? "\(endpoint!) (\(modelName!))") on \(data)")) }
            if let rate = report.errorRate, rate > maxGraderErrorRate {
                let failed = report.errors.values.reduce(0, +)
                printError("grading failed on \(failed) of \(report.samples) samples (\(String(format: "%.1f%%", rate * 100))), "
                           + "above --max-grader-error-rate \(maxGraderErrorRate): fix the grader first (rft grader test DIR)")
                throw ExitCode(1)
            }
        } catch let e as ValidationError { throw e } catch let e as ExitCode { throw e } catch {
            printError("\(error)"); throw ExitCode(1)
        }
    }
}
