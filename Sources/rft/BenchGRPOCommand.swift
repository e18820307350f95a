import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import JSON
import TransformerModel

/// `rft bench grpo`: seconds per GRPO step on the reference config.
struct BenchGRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Seconds per GRPO step on the reference config (ref-1m, 8 prompts × 8 generations, 16 new tokens, β = 0.04).",
        discussion: """
        Runs the real training loop (sampling, in-process exact-answer reward, reference and policy
        log-prob passes, backward, AdamW) on prompts `Q: a+b=? A:` and reports the median step time,
        sampling throughput and peak RSS. Build with -c release. The TRL 1.16 / PyTorch 2.15
        figure for the same config on this machine kind (0.378 s/step) is printed for comparison.

        Example:
          swift build -c release && .build/release/rft bench grpo --json
        """
    )

    @Option(help: "Measured steps (after warm-up).") var steps = 20
    @Option(help: "Warm-up steps, not measured.") var warmup = 3
    @Option(help: "Prompts per batched sampling call.") var samplingChunk = 8
    @Option(help: "Sequences per forward/backward pass (the trainer's micro_batch_size).") var microBatchSize = Hyperparameters().microBatchSize
    @Flag(help: "Print JSON: {\"step_seconds\", \"sampling_tokens_per_s\", \"peak_rss_mib\", ...}.") var json = false

    static let trlStepSeconds = 0.378

    /// User + system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-bench-grpo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        var records: [PromptRecord] = []
        for a in 0..<10 { for b in 0..<10 {
            records.append(PromptRecord(id: "\(a)+\(b)", messages: [ChatMessage(role: "user", content: "Q: \(a)+\(b)=? A:")],
                                        referenceAnswer: .string(String(a + b))))
        } }
        let config = try TrainConfig.parse([
            "data": ["train": "bench.jsonl"], "model": ["preset": "ref-1m"], "rewards": "in-process",
            "output_dir": .string(dir.path),
            "hyperparameters": ["batch_size": 8, "num_generations": 8, "max_completion_length": 16, "beta": 0.04,
                                "learning_rate": 1e-4, "max_steps": .number(Double(steps + warmup)), "save_interval": 0,
                                "log_samples_interval": 1_000_000, "temperature": 1.0, "sampling_chunk": .number(Double(samplingChunk)),
                                "micro_batch_size": .number(Double(microBatchSize)), "seed": 1],
        ])
        let policy = try TransformerPolicy.scratch(.ref1m, seed: 1, hyperparameters: config.hyperparameters)
        let scorer = ClosureScorer(name: "exact") { r in
            r.completion.trimmingCharacters(in: .whitespaces) == r.record.referenceAnswer?.stringValue ? 1 : 0
        }
        let trainer = try Trainer(config: config, policy: policy, scorer: scorer, train: records, validation: [])
        trainer.say = { _ in }
        var stepTimes: [Double] = [], sampling: [Double] = [], phases: [String: [Double]] = [:]
        var cpuSteps: [Double] = []
        var lastCPU = Self.processCPUSeconds()
        trainer.onStep = { line in
            let cpu = Self.processCPUSeconds()
            if ProcessInfo.processInfo.environment["RFT_BENCH_RSS"] != nil, let st = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
                print(line["step"]!, st.split(separator: "\n").filter { $0.hasPrefix("VmRSS") || $0.hasPrefix("VmHWM") }.joined(separator: " "))
            }
            defer { lastCPU = cpu }
            guard let step = line["step"]?.doubleValue, Int(step) > warmup else { return }
            cpuSteps.append(cpu - lastCPU)
            stepTimes.append(line["step_time"]?.doubleValue ?? .nan)
            sampling.append(line["sampling_tokens_per_s"]?.doubleValue ?? .nan)
            for k in ["timing/sampling_s", "timing/grading_wait_s", "timing/update_s"] { phases[k, default: []].append(line[k]?.doubleValue ?? .nan) }
        }
        try trainer.run()
        let median = { (xs: [Double]) -> Double in let s = xs.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        let stepSeconds = median(stepTimes), samplingRate = median(sampling)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let rss = Double(usage.ru_maxrss) / 1024
        if json {
            print(JSONValue.object(["step_seconds": .number(stepSeconds), "sampling_tokens_per_s": .number(samplingRate),
                               "peak_rss_mib": .number(rss), "step_cpu_seconds": .number(median(cpuSteps)), "steps": .number(Double(steps)),
                               "trl_reference_step_seconds": .number(Self.trlStepSeconds),
                               "speedup_vs_trl": .number(Self.trlStepSeconds / stepSeconds)]).jsonString(sortedKeys: true, pretty: true))
        } else {
            print(String(format: "GRPO step (ref-1m, 8×8, 16 new tokens, β=0.04): %.4f s median over %d steps", stepSeconds, steps))
            print(String(format: "CPU time per step: %.4f s (wall and CPU differ when other processes share the cores)", median(cpuSteps)))
            print(String(format: "sampling: %.0f tokens/s   peak RSS: %.1f MiB", samplingRate, rss))
            print(phases.keys.sorted().map { String(format: "%@ %.4f", $0, median(phases[$0]!)) }.joined(separator: "  "))
            print(String(format: "TRL 1.16 reference: %.3f s/step → %.2f× faster (target ≥ 2×, ≤ 0.19 s)", Self.trlStepSeconds,
                         Self.trlStepSeconds / stepSeconds))
        }
    }
}
