"""Accuracy and throughput of rft's math template against math-verify, on the same samples, in one run.

The samples are templates/math/regression.jsonl: hand-checked answer/reference pairs, each a model
response in a real style (\\boxed{}, Minerva's "Final Answer: The final answer is ...", GSM8K "####",
prose) with its expected_score. Measured in the same run:

  math-verify   verify(parse("$reference$"), parse(response)) one sample at a time, the way TRL's
                accuracy_reward calls it, after its import. Its accuracy is against expected_score.
  rft           `rft grader invoke templates/math --input FILE` on the set repeated --repeat times
                (fresh ids), timed from process start to exit: the sandboxed warm workers, JSON in and
                out, the CLI's start-up and shut-down, i.e. all of rft's overhead. Its accuracy is
                read from that output (first copy of the set).
  in-process    (for reference) the template's lambda_handler called directly on batches of 64.

math-verify is measured before and after the rft run; the faster of its two runs is the baseline.
With --before REV the template as it was at git revision REV is timed in-process too, against the
current one, on the pairs both can grade (CPU time, best of 5, interleaved): the speed change.
A "false accept" is a sample scored 1 whose expected_score is 0 (a reward for a wrong answer).

Run it with the interpreter that has math-verify installed (the template itself is stdlib-only):

    python3 -m venv .venv-math && .venv-math/bin/pip install math-verify==0.9.0
    .venv-math/bin/python Benchmarks/math/compare.py --rft .build/release/rft
"""
import argparse
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MATH_DIR = os.path.join(ROOT, "templates", "math")


def load_template(directory=MATH_DIR, name="rft_math_template"):
    spec = importlib.util.spec_from_file_location(name, os.path.join(directory, "math_grader.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_pairs(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def reference_of(s):
    ref = s.get("reference_answer")
    if ref is None:
        ref = s.get("metadata", {}).get("reference_answer")
    return str(ref)


def response_of(s):
    return s["messages"][-1]["content"]


class Tally:
    """Verdicts against expected_score: right, false accepts (1 for a 0), false rejects (0 for a 1)."""

    def __init__(self):
        self.right = self.false_accepts = self.false_rejects = 0
        self.wrong_ids = []

    def add(self, sample, score):
        want = sample["expected_score"]
        if score is not None and abs(score - want) < 1e-9:
            self.right += 1
            return
        self.wrong_ids.append(sample["id"])
        if score is not None and score > 0.5 and want < 0.5:
            self.false_accepts += 1
        else:
            self.false_rejects += 1

    def as_dict(self, n):
        return {"right": self.right, "wrong": n - self.right, "false_accepts": self.false_accepts,
                "false_rejects": self.false_rejects, "accuracy": round(self.right / n, 4)}


def math_verify_run(mv, pairs):
    """Scores every pair with math-verify; returns (samples/s, per-sample latencies, tally)."""
    tally, lat = Tally(), []
    t0 = time.perf_counter()
    for s in pairs:
        t = time.perf_counter()
        try:
            score = 1.0 if mv.verify(mv.parse("$" + reference_of(s) + "$"), mv.parse(response_of(s))) else 0.0
        except Exception:
            score = 0.0
        lat.append(time.perf_counter() - t)
        tally.add(s, score)
    return len(pairs) / (time.perf_counter() - t0), lat, tally


def rft_run(rft, pairs, repeat):
    """`rft grader invoke` over the pairs repeated `repeat` times; wall time of the whole process."""
    with tempfile.TemporaryDirectory(prefix="rft-mathcmp-") as d:
        path = os.path.join(d, "samples.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for r in range(repeat):
                for s in pairs:
                    row = {k: v for k, v in s.items() if k != "expected_score"}
                    row["id"] = f"{s['id']}#{r}"
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
        t = time.perf_counter()
        proc = subprocess.run([rft, "grader", "invoke", MATH_DIR, "--input", path],
                              capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"rft grader invoke failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    if len(out) != len(pairs) * repeat:
        sys.exit(f"rft grader invoke returned {len(out)} results for {len(pairs) * repeat} samples")
    by_id = {o["id"]: o for o in out}
    tally = Tally()
    for s in pairs:
        tally.add(s, by_id[f"{s['id']}#0"].get("aggregate_reward_score"))
    errors = sum(1 for o in out if "error" in o)
    return len(out) / wall, wall, tally, errors


def handler_run(mod, pairs, repeat, batch=64):
    samples = [dict(s, id=f"{s['id']}#{r}") for r in range(repeat) for s in pairs]
    best = None
    for _ in range(3):
        t = time.perf_counter()
        for i in range(0, len(samples), batch):
            mod.lambda_handler(samples[i:i + batch], None)
        dt = time.perf_counter() - t
        best = dt if best is None or dt < best else best
    return len(samples) / best


def before_after(mod, rev, pairs):
    """In-process µs/sample of the template at git revision `rev` and of the current one, same samples."""
    with tempfile.TemporaryDirectory(prefix="rft-mathold-") as d:
        for fn in ("math_grader.py", "config.json"):
            src = subprocess.run(["git", "-C", ROOT, "show", f"{rev}:templates/math/{fn}"],
                                 capture_output=True, text=True, check=True).stdout
            with open(os.path.join(d, fn), "w", encoding="utf-8") as f:
                f.write(src)
        old = load_template(d, "rft_math_template_before")
    both = [s for s, o in zip(pairs, old.lambda_handler(pairs, None)) if "error" not in o]
    times = {"before": [], "after": []}
    for _ in range(5):
        for key, m in (("before", old), ("after", mod)):
            t = time.process_time()
            for i in range(0, len(both), 64):
                m.lambda_handler(both[i:i + 64], None)
            times[key].append(time.process_time() - t)
    b, a = min(times["before"]) / len(both) * 1e6, min(times["after"]) / len(both) * 1e6
    return {"rev": rev, "pairs": len(both), "before_us": round(b, 1), "after_us": round(a, 1),
            "change": round(a / b - 1, 3)}


def default_rft():
    for p in (".build/release/rft", ".build/debug/rft"):
        if os.access(os.path.join(ROOT, p), os.X_OK):
            return os.path.join(ROOT, p)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", default=os.path.join(MATH_DIR, "regression.jsonl"),
                    help="JSONL of samples with expected_score (default: templates/math/regression.jsonl)")
    ap.add_argument("--rft", default=default_rft(), help="rft binary (default: .build/release/rft, else .build/debug/rft)")
    ap.add_argument("--repeat", type=int, default=10, help="copies of the set sent through rft (default 10)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--show-wrong", action="store_true", help="list the ids each grader gets wrong")
    ap.add_argument("--before", metavar="REV", help="also time the template of git revision REV in-process")
    args = ap.parse_args()
    if not args.rft:
        sys.exit("no rft binary: build one (swift build -c release) or pass --rft")

    pairs = [s for s in load_pairs(args.pairs) if "expected_score" in s]
    logging.disable(logging.CRITICAL)   # math-verify logs every parse failure and timeout

    t = time.perf_counter()
    import math_verify as mv   # noqa: E402  (timed import)
    mv_import_ms = (time.perf_counter() - t) * 1e3
    mod = load_template()
    mv.verify(mv.parse("$1$"), mv.parse("1"))   # warm caches

    mv_sps, mv_lat, mv_tally = math_verify_run(mv, pairs)
    rft_sps, rft_wall, rft_tally, rft_errors = rft_run(args.rft, pairs, args.repeat)
    mv_sps = max(mv_sps, math_verify_run(mv, pairs)[0])
    h_sps = handler_run(mod, pairs, args.repeat)

    n = len(pairs)
    result = {
        "pairs": n,
        "python": sys.version.split()[0],
        "rft_binary": os.path.relpath(args.rft, ROOT),
        "math_verify": dict(mv_tally.as_dict(n), samples_per_s=round(mv_sps, 1),
                            p50_ms=round(statistics.median(mv_lat) * 1e3, 2),
                            mean_ms=round(statistics.mean(mv_lat) * 1e3, 2),
                            max_ms=round(max(mv_lat) * 1e3, 1), import_ms=round(mv_import_ms)),
        "rft": dict(rft_tally.as_dict(n), samples=n * args.repeat, wall_s=round(rft_wall, 3),
                    samples_per_s=round(rft_sps, 1), ratio=round(rft_sps / mv_sps, 1), errors=rft_errors),
        "in_process": {"samples_per_s": round(h_sps, 1), "ratio": round(h_sps / mv_sps, 1)},
    }
    if args.before:
        result["before_after"] = before_after(mod, args.before, pairs)
    if args.show_wrong:
        result["math_verify"]["wrong_ids"] = mv_tally.wrong_ids
        result["rft"]["wrong_ids"] = rft_tally.wrong_ids
    if args.json:
        print(json.dumps(result))
        return
    m, r = result["math_verify"], result["rft"]
    print(f"pairs                 {n} ({os.path.relpath(args.pairs, ROOT)}), Python {result['python']}")
    print(f"accuracy  math-verify {m['right']}/{n} ({m['accuracy']:.1%}): {m['false_accepts']} false accepts, "
          f"{m['false_rejects']} false rejects")
    print(f"accuracy  rft math    {r['right']}/{n} ({r['accuracy']:.1%}): {r['false_accepts']} false accepts, "
          f"{r['false_rejects']} false rejects")
    print(f"speed     math-verify {m['samples_per_s']:9.1f} samples/s  (p50 {m['p50_ms']} ms, mean {m['mean_ms']} ms, "
          f"max {m['max_ms']} ms, import {m['import_ms']} ms)")
    print(f"speed     rft math    {r['samples_per_s']:9.1f} samples/s  {r['ratio']}x  ({r['samples']} samples through "
          f"`{result['rft_binary']} grader invoke` in {r['wall_s']} s, all overhead included)")
    print(f"speed     in-process  {result['in_process']['samples_per_s']:9.1f} samples/s  {result['in_process']['ratio']}x")
    if args.before:
        ba = result["before_after"]
        print(f"speed     template at {ba['rev']}: {ba['before_us']} µs/sample, now {ba['after_us']} µs/sample "
              f"({ba['change']:+.0%}, CPU time in-process, on the {ba['pairs']} pairs both grade)")
    if args.show_wrong:
        print("math-verify wrong:", " ".join(m["wrong_ids"]))
        print("rft wrong:        ", " ".join(r["wrong_ids"]))


if __name__ == "__main__":
    main()
