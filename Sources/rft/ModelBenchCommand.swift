import ArgumentParser
import Foundation
import TransformerModel

/// `rft bench model`: training and sampling throughput of the transformer against the
/// single-threaded `sgemm` peak measured in the same run.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Transformer training and sampling throughput, as a fraction of the sgemm peak measured in the same run.",
        discussion: """
        For each config: training tokens/s (forward + backward + clipping + AdamW on 4 sequences of 256 tokens); the achieved GFLOP/s as a fraction of the single-threaded sgemm peak measured in the same run; sampling tokens/s for 64 sequences × 16 new tokens (by default 8 prompts of 16 tokens × 8 completions each, as GRPO samples; KV cache, prefill included); and the peak RSS while that config ran.

        Times are the fastest of several runs, like the sgemm peak (best of 5), in thread CPU time: on a shared machine, time slices lost to other processes do not count, so the ratio to the peak stays meaningful. Everything runs on one thread. Build with -c release.

        Examples:
          swift build -c release && .build/release/rft bench model
          .build/release/rft bench model --json --config ref-1m
          .build/release/rft bench model --config ref-1m --prompts 64 --prompt-length 4
        """
    )

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(name: .customLong("config"), help: "Preset to run: \(ModelConfig.presets.map(\.name).joined(separator: ", ")) (repeatable; default: all).")
    var configs: [String] = []

    @Option(help: "Timed training steps per config (the fastest is reported).")
    var trainSteps = 5

    @Option(help: "Timed sampling runs per config (the fastest is reported).")
    var sampleRuns = 15

    @Option(help: "Distinct prompts among the 64 sampled sequences (a divisor of 64; each gets 64/N completions).")
    var prompts = 8

    @Option(help: "Tokens per sampling prompt.")
    var promptLength = 16

    static let known: [(String, ModelConfig)] = ModelConfig.presets.map { ($0.name, $0.config) }

    func validate() throws {
        for c in configs where !Self.known.contains(where: { $0.0 == c }) {
            throw ValidationError("unknown config '\(c)'; choose from \(ModelConfig.presets.map(\.name).joined(separator: ", "))")
        }
        guard trainSteps > 0, sampleRuns > 0 else { throw ValidationError("--train-steps and --sample-runs must be positive") }
        guard prompts > 0, 64 % prompts == 0 else { throw ValidationError("--prompts must divide 64") }
        guard promptLength > 0, promptLength <= 200 else { throw ValidationError("--prompt-length must be in 1...200") }
    }

    struct Result: Codable {
        var name: String
        var params: Int
        var train_tokens_per_s: Double
        var train_gflops: Double
        var peak_fraction: Double
        var sampling_tokens_per_s: Double
        var peak_rss_mib: Double
    }

    struct Report: Codable {
        var sgemm_peak_gflops: Double
        var configs: [Result]
        var conditions: Conditions
    }

    /// ``BenchConditions`` in the report's snake_case keys.
    struct Conditions: Codable {
        var commit: String, build: String, load_average: [Double], cpus: Int, started_at: String
        init(_ c: BenchConditions) {
            commit = c.commit; build = c.build; load_average = c.loadAverage; cpus = c.cpus; started_at = c.startedAt
        }
    }

    func run() throws {
        let conditions = BenchConditions.now()
        let selected = configs.isEmpty ? Self.known : Self.known.filter { configs.contains($0.0) }
        let peak = measureSgemmPeak()
        var results: [Result] = []
        for (name, config) in selected {
            resetPeakRSS()
            let (trainTPS, flopsPerToken) = try benchTraining(config)
            let sampleTPS = try benchSampling(config)
            let gflops = trainTPS * flopsPerToken / 1e9
            results.append(Result(name: name, params: ParameterLayout(config).totalCount,
                                  train_tokens_per_s: trainTPS.rounded(), train_gflops: round1(gflops),
                                  peak_fraction: (gflops / peak * 1000).rounded() / 1000,
                                  sampling_tokens_per_s: sampleTPS.rounded(), peak_rss_mib: round1(peakRSSMiB())))
        }
        let report = Report(sgemm_peak_gflops: round1(peak), configs: results, conditions: Conditions(conditions))
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
            return
        }
        print(conditions.line)
        print("sgemm peak (1 thread, 1024³): \(report.sgemm_peak_gflops) GFLOP/s")
        print("config   params     train tok/s  GFLOP/s  of peak  sample tok/s  peak RSS MiB")
        for r in results {
            print(String(format: "%@ %9d  %11.0f  %7.1f  %6.1f%%  %12.0f  %12.1f", r.name.padding(toLength: 8, withPad: " ", startingAt: 0) as NSString, r.params,
                         r.train_tokens_per_s, r.train_gflops, r.peak_fraction * 100, r.sampling_tokens_per_s, r.peak_rss_mib))
        }
    }

    /// Tokens/s of the fastest full training step (zero grad, forward, backward, clip, AdamW).
    func benchTraining(_ config: ModelConfig) throws -> (tokensPerSecond: Double, flopsPerToken: Double) {
        let batchSize = 4, length = min(256, config.maxSeqLen)
        let model = Transformer(config: config, seed: 1)
        let optimizer = AdamW(layout: model.layout, weightDecay: 0.1)
        var rng = RandomGenerator(seed: 2)
        let sequences = (0..<batchSize).map { _ in (0..<length).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } }
        let batch = TokenBatch(sequences: sequences)
        func step() throws {
            model.zeroGrad()
            _ = try model.crossEntropyLossAndBackward(batch)
            clipGradNorm(model.gradients, maxNorm: 1)
            optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-4)
        }
        try step()
        var times: [Double] = []
        for _ in 0..<trainSteps { times.append(try seconds(step)) }
        return (Double(batchSize * length) / times.min()!, config.trainingFlopsPerToken(contextLength: length))
    }

    /// Tokens/s of the fastest run sampling 64 sequences (`prompts` prompts of `promptLength` tokens ×
    /// 64/`prompts` completions) × 16 new tokens.
    func benchSampling(_ config: ModelConfig) throws -> Double {
        let model = Transformer(config: config, seed: 1)
        var rng = RandomGenerator(seed: 3)
        let promptTokens = (0..<prompts).map { _ in (0..<promptLength).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } }
        let options = SamplingOptions(maxNewTokens: 16, temperature: 1)
        var produced = 0
        func run() throws {
            let out = try model.sample(prompts: promptTokens, completionsPerPrompt: 64 / prompts, options: options, rng: &rng)
            produced = out.joined().reduce(0) { $0 + $1.tokens.count }
        }
        try run()
        var times: [Double] = []
        for _ in 0..<sampleRuns { times.append(try seconds(run)) }
        return Double(produced) / times.min()!
    }
}

private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = threadCPUSeconds()
    try body()
    return threadCPUSeconds() - t0
}

private func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }

/// Resets the kernel's peak-RSS mark (VmHWM) for this process.
private func resetPeakRSS() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// Peak resident set size since the last reset, from /proc/self/status (VmHWM).
private func peakRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb / 1024
}
