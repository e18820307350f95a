import Foundation
@testable import RunReports
import JSON

/// Writes a realistic synthetic run directory in the trainer's format (metrics.jsonl, samples.jsonl,
/// summary.json, config.json, baseline.json, final_eval.json), so report tests need no trainer.
struct RunFixture {
    var steps = 60
    var evalInterval = 10
    var sampleInterval = 5
    var samplesPerStep = 8
    var seed: UInt64 = 7
    /// Leave the last metrics line cut in half, as a run that is still writing does.
    var halfWrittenLastLine = false
    /// Put NaN into some metrics, as a diverging run does.
    var withNaN = false
    /// Write summary/config/baseline/final files.
    var withSideFiles = true

    static let graders = ["accuracy", "format"]
    static let hostileCompletion = "<script>alert('x')</script> & \"quoted\" <b>bold</b>"

    /// Creates a fresh temporary directory holding the run.
    func write(named name: String = "run-\(UUID().uuidString.prefix(8))") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-reports-tests")
            .appendingPathComponent(name)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SplitMix(seed: seed)
        var metrics = ""
        var samples = ""
        let baselineVal = 0.21
        for step in 1...max(steps, 1) {
            let progress = Double(step) / Double(max(steps, 1))
            let reward = min(0.95, 0.2 + 0.45 * progress + rng.normal() * 0.04)
            let acc = min(1, max(0, reward * 0.9 + rng.normal() * 0.03))
            let fmt = min(1, max(0, 0.5 + 0.45 * progress + rng.normal() * 0.03))
            let timeouts = rng.next() % 7 == 0 ? 1 : 0
            let runtime = rng.next() % 11 == 0 ? 2 : 0
            var m: [(String, JSONValue)] = [
                ("step", .number(Double(step))), ("epoch", .number(Double(step / 20))),
                ("time", .number(1_700_000_000 + Double(step) * 0.4)),
                ("reward", .number(reward)), ("reward_std", .number(0.3 - 0.1 * progress)),
                ("rewards/accuracy/mean", .number(acc)), ("rewards/accuracy/std", .number(0.4)),
                ("rewards/format/mean", .number(fmt)), ("rewards/format/std", .number(0.2)),
                ("frac_reward_zero_std", .number(max(0, 0.5 - 0.4 * progress + rng.normal() * 0.05))),
                ("completions/mean_length", .number(9 + 3 * progress)), ("completions/min_length", .number(4)),
                ("completions/max_length", .number(16)), ("completions/clipped_ratio", .number(0.1 * (1 - progress))),
                ("kl", .number(withNaN && step == steps / 2 ? .nan : 0.002 * Double(step) + abs(rng.normal()) * 0.003)),
                ("entropy", .number(1.8 - 0.6 * progress)),
                ("clip_ratio/low_mean", .number(0.01)), ("clip_ratio/high_mean", .number(0.02)),
                ("clip_ratio/region_mean", .number(0.03)),
                ("grad_norm", .number(withNaN && step == 3 ? .infinity : 0.8 + rng.normal() * 0.1)),
                ("learning_rate", .number(step < 5 ? 1e-4 * Double(step) / 5 : 1e-4)),
                ("num_tokens", .number(Double(step) * 1024)), ("tokens_per_s", .number(5200 + rng.normal() * 100)),
                ("step_time", .number(0.19 + rng.normal() * 0.01)),
                ("grader/latency_ms_mean", .number(4 + rng.normal() * 0.5)), ("grader/latency_ms_p99", .number(11 + rng.normal())),
                ("grader/errors/timeout", .number(Double(timeouts))), ("grader/errors/runtime_error", .number(Double(runtime))),
            ]
            if step % evalInterval == 0 || step == steps {
                m.append(("val/reward", .number(min(0.9, baselineVal + 0.4 * progress + rng.normal() * 0.02))))
                m.append(("val/pass@4", .number(min(1, baselineVal + 0.55 * progress))))
            }
            if step == 24 {
                m.append(("warnings", [["kind": "reward_variance_rising", "message": "reward std rose 3 evaluations in a row"]]))
            }
            if step == 41 {
                m.append(("warnings", [["kind": "grader_error_rate", "message": "grader errors 6% > 5% <threshold>"]]))
            }
            metrics += JSONValue.object(JSONObject(m)).jsonString(sortedKeys: false, nonFinite: .literals) + "\n"

            if step % sampleInterval == 0 || step == 1 {
                for i in 0..<samplesPerStep {
                    let a = Int(rng.next() % 50), b = Int(rng.next() % 50)
                    let right = rng.uniform() < reward
                    let answer = right ? a + b : a + b + Int(rng.next() % 9) + 1
                    let f = rng.uniform() < fmt ? 1.0 : 0.0
                    let errored = i == 7 && step % 20 == 0
                    let hostile = i == 0 && step == 30  // scores 1.0 first, so it is the best row of its step
                    let completion = hostile ? Self.hostileCompletion : " \(answer)"
                    let sample: JSONValue = .object(JSONObject([
                        ("step", .number(Double(step))), ("prompt_id", .string("p\(step)-\(i)")),
                        ("prompt", .string("Q: \(a)+\(b)=? A:")), ("completion", .string(completion)),
                        ("reward", errored ? .null : .number(hostile ? 1 : 0.8 * (right ? 1 : 0) + 0.2 * f)),
                        ("rewards", ["accuracy": errored ? .null : .number(right ? 1 : 0), "format": .number(f)]),
                        ("truncated", .bool(i == 5)),
                        ("error", errored ? ["type": "timeout", "message": "grader exceeded 2000 ms"] : .null),
                    ]))
                    samples += sample.jsonString(sortedKeys: false) + "\n"
                }
            }
        }
        if halfWrittenLastLine {
            metrics += #"{"step": \#(steps + 1), "reward": 0.5, "rewards/acc"#
        }
        try metrics.write(to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try samples.write(to: dir.appendingPathComponent("samples.jsonl"), atomically: true, encoding: .utf8)
        guard withSideFiles else { return dir }
        let finalVal = 0.55
        try """
        {"status": "Completed", "steps": \(steps), "total_steps": \(steps), "epoch": 3, "baseline_val_reward": \(baselineVal), "final_val_reward": \(finalVal),
         "best_checkpoint": "checkpoints/step-000050", "run_dir": "\(dir.path)"}
        """.write(to: dir.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
        try """
        {"data": {"train": "data/train.jsonl", "validation": "data/val.jsonl"},
         "model": {"preset": "ref-1m"}, "rewards": {"graders": [{"name": "accuracy", "weight": 0.8}, {"name": "format", "weight": 0.2}]},
         "hyperparameters": {"epochs": 3, "batch_size": 8, "num_generations": 8, "learning_rate": 0.0001, "beta": 0.04,
          "loss_type": "grpo", "scale_rewards": "group", "eval_interval": \(evalInterval), "seed": 7}}
        """.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        // The trainer's EvalReport: histogram bins rather than raw rewards.
        func evalReport(mean: Double, pass: Double, counts: [Int], answers: [String], timeouts: Int) -> String {
            let examples = answers.enumerated().map { i, a -> String in
                let reward = a == " \(2 * i)" ? 1 : 0
                return #"{"prompt_id": "v\#(i)", "prompt": "Q: \#(i)+\#(i)=? A:", "completion": "\#(a)", "reward": \#(reward), "error": null}"#
            }
            let bins = counts.enumerated().map { i, c in #"{"lower": \#(Double(i) / 10), "upper": \#(Double(i + 1) / 10), "count": \#(c)}"# }
            return #"{"prompts": 64, "samples": 64, "mean_reward": \#(mean), "reward_std": 0.3, "pass_rate": \#(pass), "#
                + #""pass_threshold": 1, "histogram": [\#(bins.joined(separator: ", "))], "errors": {"timeout": \#(timeouts)}, "abstained": 0, "#
                + #""recommendation": "go", "examples": [\#(examples.joined(separator: ", "))]}"#
        }
        try evalReport(mean: baselineVal, pass: 0.2, counts: [40, 0, 8, 0, 0, 0, 0, 0, 3, 13], answers: [" 0", " 3", "5", " 6 <"], timeouts: 3)
            .write(to: dir.appendingPathComponent("baseline.json"), atomically: true, encoding: .utf8)
        try evalReport(mean: finalVal, pass: 0.5, counts: [20, 0, 6, 0, 0, 0, 0, 0, 6, 32], answers: [" 0", " 2", " 4", " 7"], timeouts: 1)
            .write(to: dir.appendingPathComponent("final_eval.json"), atomically: true, encoding: .utf8)
        return dir
    }
}

/// A small deterministic generator (SplitMix64) for fixtures.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-12), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
