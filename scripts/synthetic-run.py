#!/usr/bin/python3
"""Write a large synthetic run directory (metrics.jsonl + samples.jsonl) for timing `rft report`.

Usage: scripts/synthetic-run.py OUT_DIR [--steps 5000] [--samples 64] [--sample-every 5]
Stdlib only; the values are random, the keys are the trainer's.
"""
import argparse, json, os, random

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--steps", type=int, default=5000)
p.add_argument("--samples", type=int, default=64, help="samples logged per logging step")
p.add_argument("--sample-every", type=int, default=5)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
random.seed(1)
keys = ["frac_reward_zero_std", "completions/mean_length", "completions/min_length", "completions/max_length",
        "completions/clipped_ratio", "kl", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean",
        "clip_ratio/region_mean", "grad_norm", "learning_rate", "num_tokens", "tokens_per_s", "step_time",
        "grader/latency_ms_mean", "grader/latency_ms_p99", "grader/errors/timeout", "grader/errors/runtime_error"]
with open(os.path.join(a.out, "metrics.jsonl"), "w") as f:
    for s in range(1, a.steps + 1):
        m = {"step": s, "epoch": s // 500, "time": 1.7e9 + s * 0.2, "reward": random.random(), "reward_std": random.random()}
        for g in ["accuracy", "format", "length"]:
            m[f"rewards/{g}/mean"] = random.random()
            m[f"rewards/{g}/std"] = random.random()
        for k in keys:
            m[k] = random.random()
        if s % 50 == 0:
            m["val/reward"] = random.random()
        if s % 400 == 0:
            m["warnings"] = [{"kind": "plateau", "message": "reward plateaued"}]
        f.write(json.dumps(m) + "\n")
with open(os.path.join(a.out, "samples.jsonl"), "w") as f:
    for s in range(a.sample_every, a.steps + 1, a.sample_every):
        for i in range(a.samples):
            f.write(json.dumps({"step": s, "prompt_id": f"p{i}", "prompt": "Q: 12+30=? A:",
                                "completion": " 42 because " + "x" * random.randint(0, 200), "reward": random.random(),
                                "rewards": {"accuracy": 1.0, "format": 0.5}, "error": None}) + "\n")
print(a.out)
