import ArgumentParser
import Foundation
import JSON
import TransformerModel

/// `rft bench model`: training and sampling throughput of the transformer against the
/// single-threaded `sgemm` peak measured in the same run.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Transformer training and sampling throughput, as a fraction of the sgemm peak measured in the same run.",
        discussion: """
        For each config: training tokens/s (forward + backward + clipping + AdamW on 4 sequences of 256 tokens); the achieved GFLOP/s as a fraction of the single-threaded sgemm peak measured in the same run; sampling tokens/s for 64 sequences × 16 new tokens (by default 8 prompts of 16 tokens × 8 completions each, as GRPO samples; KV cache, prefill included); and the peak RSS while that config ran.

        Times are the fastest of several runs, like the sgemm peak (best of 5). The one-thread figures are in thread CPU time: on a shared machine, time slices lost to other processes do not count, so the ratio to the peak stays meaningful. The scaling figures are wall-clock, one thread against --threads threads (default: the cores available), runs alternating so both see the same load; the conditions (commit, build, load average) are reported with them.

        The PyTorch peer (Benchmarks/peer/pytorch_peer.py --sections train,generate: PyTorch forward+backward+AdamW and HF generate on the same shapes) runs after each config at the same thread count when .venv-peer exists (Benchmarks/peer/setup.sh) or --peer-python is given; the report then carries each config's peer rates and the ratios train_vs_peer and sampling_vs_peer (rft at --threads threads over the peer at --threads threads, both wall-clock). --peer-json reads a report the peer wrote earlier instead. Build with -c release.

        Examples:
          swift build -c release && .build/release/rft bench model
          .build/release/rft bench model --json --config ref-1m
          .build/release/rft bench model --config ref-1m --prompts 64 --prompt-length 4
          Benchmarks/peer/setup.sh && .build/release/rft bench model --config ref-1m --threads 2
          .build/release/rft bench model --json --threads 2 --peer-json peer.json
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

    @OptionGroup var threads: ThreadsOption

    @Option(help: "Read the PyTorch peer's report from this file (pytorch_peer.py --sections train,generate --json) instead of running it.")
    var peerJson: String?
    @Option(help: "Python with torch and transformers to run the peer (default: .venv-peer/bin/python when it exists).")
    var peerPython: String?
    @Option(help: "The peer script.") var peerScript = PyTorchPeer.defaultScript
    @Flag(help: "Do not run or read the PyTorch peer.") var noPeer = false

    struct Result: Codable {
        var name: String
        var params: Int
        /// One thread, in thread CPU time (comparable with the sgemm peak).
        var train_tokens_per_s: Double
        var train_gflops: Double
        var peak_fraction: Double
        var sampling_tokens_per_s: Double
        /// One thread and `threads` threads in wall-clock time, measured alternately in this run.
        var train_tokens_per_s_wall: Double
        var train_tokens_per_s_all: Double
        var sampling_tokens_per_s_wall: Double
        var sampling_tokens_per_s_all: Double
        /// GFLOP/s at `threads` threads over `threads` × the single-thread sgemm peak.
        var peak_fraction_all: Double
        var peak_rss_mib: Double
        /// The PyTorch peer at `threads` threads, wall-clock (absent without a peer).
        var peer_train_tokens_per_s: Double?
        var peer_sampling_tokens_per_s: Double?
        /// `train_tokens_per_s_all` / `peer_train_tokens_per_s`, `sampling_tokens_per_s_all` / `peer_sampling_tokens_per_s`.
        var train_vs_peer: Double?
        var sampling_vs_peer: Double?
    }

    /// The peer's version and thread count, from its report's conditions.
    struct Peer: Codable {
        var threads: Int
        var torch: String?
        var transformers: String?
    }

    struct Report: Codable {
        var sgemm_peak_gflops: Double
        var threads: Int
        var peer: Peer?
        var configs: [Result]
        var conditions: BenchConditions
    }

    func run() throws {
        let conditions = BenchConditions.now()
        let selected = configs.isEmpty ? Self.known : Self.known.filter { configs.contains($0.0) }
        let n = threads.count
        let peak = measureSgemmPeak()
        var results: [Result] = []
        var peerInfo: Peer?
        for (name, config) in selected {
            resetPeakRSS()
            let train = try benchTraining(config, threads: n)
            let sample = try benchSampling(config, threads: n)
            let gflops = train.cpu * train.flopsPerToken / 1e9, gflopsAll = train.all * train.flopsPerToken / 1e9
            var result = Result(name: name, params: ParameterLayout(config).totalCount,
                                train_tokens_per_s: train.cpu.rounded(), train_gflops: round1(gflops),
                                peak_fraction: round3(gflops / peak), sampling_tokens_per_s: sample.cpu.rounded(),
                                train_tokens_per_s_wall: train.wall.rounded(), train_tokens_per_s_all: train.all.rounded(),
                                sampling_tokens_per_s_wall: sample.wall.rounded(), sampling_tokens_per_s_all: sample.all.rounded(),
                                peak_fraction_all: round3(gflopsAll / (Double(n) * peak)), peak_rss_mib: round1(peakRSSMiB()))
            if !noPeer, let report = try PyTorchPeer.report(
                jsonFile: peerJson, python: peerPython, script: peerScript, sections: ["train", "generate"], threads: n, config: name,
                extraArguments: ["--train-steps", String(trainSteps), "--sample-runs", String(sampleRuns),
                                 "--prompts", String(prompts), "--prompt-length", String(promptLength)]) {
                result.peer_train_tokens_per_s = report["train"]?["tokens_per_s"]?.numericValue
                result.peer_sampling_tokens_per_s = report["generate"]?["tokens_per_s"]?.numericValue
                result.train_vs_peer = result.peer_train_tokens_per_s.map { round3(train.all / $0) }
                result.sampling_vs_peer = result.peer_sampling_tokens_per_s.map { round3(sample.all / $0) }
                peerInfo = Peer(threads: report["threads"]?.intValue ?? n, torch: report["conditions"]?["torch"]?.stringValue,
                                transformers: report["conditions"]?["transformers"]?.stringValue)
            }
            results.append(result)
        }
        let report = Report(sgemm_peak_gflops: round1(peak), threads: n, peer: peerInfo, configs: results, conditions: conditions)
        if json {
            print(try cliJSON(report))
            return
        }
        print(conditions.line)
        print("sgemm peak (1 thread, 1024³): \(report.sgemm_peak_gflops) GFLOP/s; \(n) threads")
        print("config   params     train tok/s  GFLOP/s  of peak  sample tok/s | wall: train 1t  train \(n)t  of \(n)×peak  sample 1t  sample \(n)t | RSS MiB")
        for r in results {
            print(String(format: "%@ %9d  %11.0f  %7.1f  %6.1f%%  %12.0f | %14.0f  %8.0f  %9.1f%%  %9.0f  %9.0f | %7.1f",
                         r.name.padding(toLength: 8, withPad: " ", startingAt: 0) as NSString, r.params,
                         r.train_tokens_per_s, r.train_gflops, r.peak_fraction * 100, r.sampling_tokens_per_s,
                         r.train_tokens_per_s_wall, r.train_tokens_per_s_all, r.peak_fraction_all * 100,
                         r.sampling_tokens_per_s_wall, r.sampling_tokens_per_s_all, r.peak_rss_mib))
        }
        if let peer = report.peer {
            print("PyTorch peer (torch \(peer.torch ?? "?"), transformers \(peer.transformers ?? "?"), \(peer.threads) threads), wall-clock at \(n) threads:")
            for r in results {
                guard let pt = r.peer_train_tokens_per_s, let ps = r.peer_sampling_tokens_per_s else { continue }
                print(String(format: "%@ train %.0f vs %.0f tok/s (%.2f×)  sample %.0f vs %.0f tok/s (%.2f×)",
                             r.name.padding(toLength: 8, withPad: " ", startingAt: 0) as NSString,
                             r.train_tokens_per_s_all, pt, r.train_vs_peer ?? 0, r.sampling_tokens_per_s_all, ps, r.sampling_vs_peer ?? 0))
            }
        } else if !noPeer {
            print("no PyTorch peer: run Benchmarks/peer/setup.sh (then this command runs it), or pass --peer-json/--peer-python")
        }
    }

    /// Best tokens/s of `runs` runs of `body` (which returns the tokens it processed): at one
    /// thread in thread CPU time and wall time, and at `threads` threads in wall time, the two
    /// thread counts alternating so that both see the same load.
    func measure(_ model: Transformer, threads n: Int, runs: Int, _ body: () throws -> Int) throws
        -> (cpu: Double, wall: Double, all: Double) {
        var cpu = 0.0, wall = 0.0, all = 0.0
        for _ in 0..<runs {
            model.threads = 1
            let c0 = threadCPUSeconds(), w0 = wallSeconds()
            var tokens = Double(try body())
            cpu = max(cpu, tokens / (threadCPUSeconds() - c0)); wall = max(wall, tokens / (wallSeconds() - w0))
            model.threads = n
            let w1 = wallSeconds()
            tokens = Double(try body())
            all = max(all, tokens / (wallSeconds() - w1))
        }
        return (cpu, wall, all)
    }

    /// Training tokens/s of the fastest full step (zero grad, forward, backward, clip, AdamW).
    func benchTraining(_ config: ModelConfig, threads n: Int) throws
        -> (cpu: Double, wall: Double, all: Double, flopsPerToken: Double) {
        let batchSize = 4, length = min(256, config.maxSeqLen)
        let model = Transformer(config: config, seed: 1)
        let optimizer = AdamW(layout: model.layout, weightDecay: 0.1)
        var rng = RandomGenerator(seed: 2)
        let sequences = (0..<batchSize).map { _ in (0..<length).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } }
        let batch = TokenBatch(sequences: sequences)
        func step() throws -> Int {
            model.zeroGrad()
            _ = try model.crossEntropyLossAndBackward(batch)
            clipGradNorm(model.gradients, maxNorm: 1)
            optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-4)
            return batchSize * length
        }
        model.threads = n
        _ = try step()
        let r = try measure(model, threads: n, runs: trainSteps, step)
        return (r.cpu, r.wall, r.all, config.trainingFlopsPerToken(contextLength: length))
    }

    /// Sampling tokens/s of the fastest run over 64 sequences (`prompts` prompts of `promptLength`
    /// tokens × 64/`prompts` completions) × 16 new tokens.
    func benchSampling(_ config: ModelConfig, threads n: Int) throws -> (cpu: Double, wall: Double, all: Double) {
        let model = Transformer(config: config, seed: 1)
        var rng = RandomGenerator(seed: 3)
        let promptTokens = (0..<prompts).map { _ in (0..<promptLength).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } }
        let options = SamplingOptions(maxNewTokens: 16, temperature: 1)
        func run() throws -> Int {
            let out = try model.sample(prompts: promptTokens, completionsPerPrompt: 64 / prompts, options: options, rng: &rng)
            return out.joined().reduce(0) { $0 + $1.tokens.count }
        }
        model.threads = n
        _ = try run()
        return try measure(model, threads: n, runs: sampleRuns, run)
    }
}

/// Seconds on a monotonic clock.
private func wallSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

private func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

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
