"""Samples/s of rft's math template against math-verify's parse+verify, on the same samples, in one run.

The samples are templates/math/cases.jsonl without its 10 hostile rows (on those math-verify spends
seconds each in its own timeouts), repeated to --samples. Three figures are measured in the same run:

  math-verify   parse(reference) + parse(response) + verify(gold, pred), one sample at a time
                (the way TRL's accuracy_reward calls it), after its import;
  handler       the math template's lambda_handler called in-process on batches of 64;
  rft (end to end, with --rft BIN)
                `rft grader bench DIR --samples N --json` on a copy of templates/math whose
                cases.jsonl holds exactly these cases: the sandboxed warm-worker
                pool, JSON over the pipe, output checking: all of rft's overhead.

It also reports how many cases each gets right against expected_score (math-verify's own answer
shapes differ: this is agreement with the template's cases, not a general accuracy figure).

Run it with the interpreter that has math-verify installed (the template itself is stdlib-only):

    python3 -m venv /work/.venv-mv && /work/.venv-mv/bin/pip install 'math-verify[antlr4_13_2]'
    swift build -c release
    /work/.venv-mv/bin/python Benchmarks/math_verify_compare.py --samples 2000 --rft .build/release/rft
"""
import argparse
import importlib.util
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATH_DIR = os.path.join(ROOT, "templates", "math")


def load_template():
    spec = importlib.util.spec_from_file_location("rft_math_template", os.path.join(MATH_DIR, "math_grader.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_samples(n, hostile):
    with open(os.path.join(MATH_DIR, "cases.jsonl"), encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    cases = [c for c in cases if "expected_score" in c]   # not the bad-reference (expected_error) rows
    if not hostile:
        cases = [c for c in cases if not c["id"].startswith("hostile")]
    out = []
    while len(out) < n:
        for c in cases:
            if len(out) == n:
                break
            s = dict(c)
            s["id"] = f"{c['id']}#{len(out)}"
            out.append(s)
    return cases, out


def reference_of(s):
    ref = s.get("reference_answer")
    if ref is None:
        ref = s.get("metadata", {}).get("reference_answer")
    return str(ref)


def bench_handler(mod, samples, batch=64, repeats=3):
    best = None
    for _ in range(repeats):
        t = time.perf_counter()
        for i in range(0, len(samples), batch):
            mod.lambda_handler(samples[i:i + batch], None)
        dt = time.perf_counter() - t
        best = dt if best is None or dt < best else best
    return len(samples) / best


def math_verify_score(mv, sample):
    gold = mv.parse(reference_of(sample))
    pred = mv.parse(sample["messages"][-1]["content"])
    return 1.0 if mv.verify(gold, pred) else 0.0


def bench_math_verify(mv, samples):
    lat = []
    t0 = time.perf_counter()
    for s in samples:
        t = time.perf_counter()
        try:
            math_verify_score(mv, s)
        except Exception:
            pass
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    return len(samples) / total, statistics.median(lat) * 1e3, statistics.mean(lat) * 1e3, max(lat) * 1e3


def agreement(score_fn, cases):
    right = 0
    for c in cases:
        try:
            s = score_fn(c)
        except Exception:
            s = None
        if s is not None and abs(s - c["expected_score"]) <= c.get("tolerance", 1e-9):
            right += 1
    return right


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--rft", help="path to a (release) rft binary: also measure end to end with `rft grader bench`")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--include-hostile", action="store_true",
                    help="keep the hostile cases (math-verify then spends seconds on each in its timeouts)")
    args = ap.parse_args()

    cases, samples = load_samples(args.samples, args.include_hostile)
    logging.disable(logging.CRITICAL)   # math-verify logs every timeout

    t = time.perf_counter()
    import math_verify as mv   # noqa: E402  (timed import)
    mv_import_ms = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    mod = load_template()
    tpl_import_ms = (time.perf_counter() - t) * 1e3

    math_verify_score(mv, samples[0])   # warm caches on both sides
    mod.lambda_handler(samples[:64], None)

    mv_sps, mv_p50, mv_mean, mv_max = bench_math_verify(mv, samples)
    h_sps = bench_handler(mod, samples)

    rft = None
    if args.rft:
        # rft grader bench repeats DIR/cases.jsonl: give it a copy of the template holding exactly these cases
        with tempfile.TemporaryDirectory(prefix="rft-mathbench-") as d:
            os.chmod(d, 0o755)   # the sandboxed worker runs as an unprivileged uid
            for fn in ("math_grader.py", "grader.json", "config.json"):
                shutil.copy(os.path.join(MATH_DIR, fn), d)
            with open(os.path.join(d, "cases.jsonl"), "w", encoding="utf-8") as f:
                f.writelines(json.dumps(c) + "\n" for c in cases)
            proc = subprocess.run([args.rft, "grader", "bench", d, "--samples", str(args.samples), "--json"],
                                  capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            sys.exit(f"rft grader bench failed ({proc.returncode}): {proc.stderr[-2000:]}")
        rft = json.loads(proc.stdout.strip().splitlines()[-1])
        # math-verify again after the rft run; the faster of its two runs is the baseline (conservative)
        mv_sps = max(mv_sps, bench_math_verify(mv, samples)[0])

    tpl_right = agreement(lambda c: mod.lambda_handler([c], None)[0].get("aggregate_reward_score"), cases)
    mv_right = agreement(lambda c: math_verify_score(mv, c), cases)

    result = {
        "samples": len(samples),
        "python": sys.version.split()[0],
        "math_verify_samples_per_s": round(mv_sps, 1),
        "math_verify_p50_ms": round(mv_p50, 3),
        "math_verify_mean_ms": round(mv_mean, 3),
        "math_verify_max_ms": round(mv_max, 1),
        "math_verify_import_ms": round(mv_import_ms, 1),
        "template_import_ms": round(tpl_import_ms, 1),
        "handler_samples_per_s": round(h_sps, 1),
        "handler_ratio": round(h_sps / mv_sps, 1),
        "cases": len(cases),
        "template_cases_right": tpl_right,
        "math_verify_cases_right": mv_right,
    }
    if rft is not None:
        result["rft_samples_per_s"] = round(rft["samples_per_s"], 1)
        result["rft_ratio"] = round(rft["samples_per_s"] / mv_sps, 1)
        result["rft_p50_batch_ms"] = round(rft["p50_ms"], 2)
        result["rft_cold_start_ms"] = round(rft["cold_start_ms"], 1)
    if args.json:
        print(json.dumps(result))
        return
    print(f"samples                     {len(samples)} (templates/math/cases.jsonl repeated), Python {result['python']}")
    print(f"math-verify parse+verify    {mv_sps:9.1f} samples/s   p50 {mv_p50:.3f} ms, mean {mv_mean:.3f} ms, "
          f"max {mv_max:.1f} ms, import {mv_import_ms:.0f} ms")
    print(f"math template, in-process   {h_sps:9.1f} samples/s   ratio {h_sps / mv_sps:.1f}x   import {tpl_import_ms:.1f} ms")
    if rft is not None:
        print(f"math template via rft       {rft['samples_per_s']:9.1f} samples/s   ratio {rft['samples_per_s'] / mv_sps:.1f}x   "
              f"(p50 batch {rft['p50_ms']:.2f} ms, cold start {rft['cold_start_ms']:.1f} ms)")
    print(f"agreement with expected_score on {len(cases)} cases: template {tpl_right}, math-verify {mv_right}")


if __name__ == "__main__":
    main()
