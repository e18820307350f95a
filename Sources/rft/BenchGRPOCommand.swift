import ArgumentParser
import Foundation
import GraderRuntime
import GRPOTrainer
import JSON
import RunReports
import TransformerModel

/// `rft bench grpo`: seconds per GRPO step on the reference config.
struct BenchGRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Seconds per GRPO step on the reference config (ref-1m, 8 prompts × 8 generations, 16 new tokens, β = 0.04).",
        discussion: """
        Runs the real training loop (sampling, in-process exact-answer reward, reference and policy
        log-prob passes, backward, AdamW) on prompts `Q: a+b=? A:` and reports the median step time,
        sampling throughput and peak RSS. Build with -c release.

        The peer is TRL's GRPOTrainer on the same model shape and step (Benchmarks/peer/pytorch_peer.py
        --sections grpo), run in the same invocation after rft's steps by --peer-python, or by
        .venv-peer/bin/python when Benchmarks/peer/setup.sh made it; --peer-json reads a report the
        peer wrote earlier instead. Without a peer no comparison is printed. The output states the
        commit, build configuration and load average at start.

        Examples:
          swift build -c release && .build/release/rft bench grpo --json
          Benchmarks/peer/setup.sh && .build/release/rft bench grpo --peer-python .venv-peer/bin/python
        """
    )

    @Option(help: "Measured steps (after warm-up).") var steps = 20
    @Option(help: "Warm-up steps, not measured.") var warmup = 3
    @Option(help: "Prompts per batched sampling call.") var samplingChunk = 8
    @Option(help: "Sequences per forward/backward pass (the trainer's micro_batch_size).") var microBatchSize = Hyperparameters().microBatchSize
    @Flag(help: "Print JSON: {\"step_seconds\", \"sampling_tokens_per_s\", \"peak_rss_mib\", ...}.") var json = false

    @Option(help: "Read the TRL peer's report from this file (pytorch_peer.py --sections grpo --json) instead of running it.") var peerJson: String?
    @Option(help: "Python with torch, transformers and trl to run the TRL peer (default: .venv-peer/bin/python when it exists).") var peerPython: String?
    @Option(help: "The peer script.") var peerScript = PyTorchPeer.defaultScript
    @Option(help: "torch.set_num_threads for the peer (default: the model's thread count, --threads).") var peerThreads: Int?
    @Flag(help: "Do not run or read the TRL peer.") var noPeer = false

    /// User + system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @OptionGroup var threads: ThreadsOption

    func run() throws {
        threads.apply()
        let conditions = BenchConditions.now()
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
            (r.completionText ?? "").trimmingCharacters(in: .whitespaces) == r.referenceAnswer?.stringValue ? 1 : 0
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
            typealias Key = StepMetrics.CodingKeys
            guard let step = line[Key.step.rawValue]?.doubleValue, Int(step) > warmup else { return }
            cpuSteps.append(cpu - lastCPU)
            stepTimes.append(line[Key.stepTime.rawValue]?.doubleValue ?? .nan)
            sampling.append(line[Key.samplingTokensPerS.rawValue]?.doubleValue ?? .nan)
            for k in [Key.timingSamplingS, .timingGradingWaitS, .timingUpdateS] {
                phases[k.rawValue, default: []].append(line[k.rawValue]?.doubleValue ?? .nan)
            }
        }
        try trainer.run()
        let median = { (xs: [Double]) -> Double in let s = xs.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        let stepSeconds = median(stepTimes), samplingRate = median(sampling)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let rss = Double(usage.ru_maxrss) / 1024
        let stepCPU = median(cpuSteps)
        let peer = noPeer ? nil : try PyTorchPeer.report(jsonFile: peerJson, python: peerPython, script: peerScript,
                                                         sections: ["grpo"], threads: peerThreads ?? threads.count, config: "ref-1m")
        let trl = peer?["grpo"]
        let trlWall = trl?["step_seconds"]?.doubleValue, trlCPU = trl?["step_cpu_seconds"]?.doubleValue
        if json {
            var o = JSONObject([("step_seconds", .number(stepSeconds)), ("sampling_tokens_per_s", .number(samplingRate)),
                                ("peak_rss_mib", .number(rss)), ("step_cpu_seconds", .number(stepCPU)), ("steps", .number(Double(steps))),
                                ("conditions", conditions.json)])
            if let peer, let trlWall, let trlCPU {
                o["peer"] = peer
                o["speedup_vs_trl"] = .number(trlWall / stepSeconds)
                o["cpu_speedup_vs_trl"] = .number(trlCPU / stepCPU)
            }
            print(JSONValue.object(o).jsonString(sortedKeys: true, pretty: true))
        } else {
            print(conditions.line)
            print(String(format: "GRPO step (ref-1m, 8×8, 16 new tokens, β=0.04): %.4f s median over %d steps", stepSeconds, steps))
            print(String(format: "CPU time per step: %.4f s (wall and CPU differ when other processes share the cores)", stepCPU))
            print(String(format: "sampling: %.0f tokens/s   peak RSS: %.1f MiB", samplingRate, rss))
            print(phases.keys.sorted().map { String(format: "%@ %.4f", $0, median(phases[$0]!)) }.joined(separator: "  "))
            if let peer, let trlWall, let trlCPU {
                let versions = peer["conditions"]
                print(String(format: "TRL %@ (torch %@, %d thread(s)), same run: %.4f s/step wall, %.4f s CPU, peak RSS %.0f MiB",
                             versions?["trl"]?.stringValue ?? "?", versions?["torch"]?.stringValue ?? "?", Int(peer["threads"]?.doubleValue ?? 0),
                             trlWall, trlCPU, trl?["peak_rss_mib"]?.doubleValue ?? .nan))
                print(String(format: "rft vs TRL: %.2f× faster wall, %.2f× CPU (target ≥ 2×)", trlWall / stepSeconds, trlCPU / stepCPU))
            } else if !noPeer {
                print("no TRL peer: run Benchmarks/peer/setup.sh (then this command runs it), or pass --peer-json/--peer-python")
            }
        }
    }
}
