#!/usr/bin/env python3
"""Spawn cost of rft's sandbox against unshare(1) and bubblewrap, in one run (docs/PERFORMANCE.md,
"Sandbox spawn"). Standard library only; run as root from the repository root.

Times /bin/true spawned and waited for (os.posix_spawn + waitpid, median and p90 of --runs after
--warmup untimed spawns), the three ways alternating so that they see the same machine load:
  plain      /bin/true
  unshare    unshare --net --ipc --uts --mount --pid --fork /bin/true   (util-linux)
  bwrap      bwrap --unshare-all --die-with-parent --ro-bind /usr /usr (+ /bin, /lib links) --proc /proc
             --dev /dev --tmpfs /tmp /bin/true                          (bubblewrap)
Then, in the same run, `rft bench spawn --runs N --json` (plain posix_spawn against Sandbox.run with the
full grader policy) when --rft is given. Every ratio is against the plain spawn of its own process.
bubblewrap is installed from Debian when missing (as root; `apt-get install -y bubblewrap`).

  python3 Benchmarks/spawn_peers.py --runs 500 --rft .build/release/rft --json
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

WAYS = {
    "plain": ["/bin/true"],
    "unshare": ["unshare", "--net", "--ipc", "--uts", "--mount", "--pid", "--fork", "/bin/true"],
    "bwrap": ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
              "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
              "--tmpfs", "/tmp", "/bin/true"],
}


def ensure_bwrap():
    """Path of bwrap, installing Debian's bubblewrap as root when missing; None when unavailable."""
    if shutil.which("bwrap"):
        return shutil.which("bwrap")
    if os.geteuid() != 0:
        print("bwrap missing; run: sudo apt-get install -y bubblewrap", file=sys.stderr)
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, stdout=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "bubblewrap"], check=False, env=env, stdout=sys.stderr)
    return shutil.which("bwrap")


def spawn_once(argv):
    """Seconds to posix_spawn argv and reap it; raises if it fails."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return dt


def summary(times):
    s = sorted(times)
    return {"median_us": round(statistics.median(s) * 1e6, 1), "p90_us": round(s[int(len(s) * 0.9) - 1] * 1e6, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=500, help="timed spawns per way (default 500)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rft", help="rft binary: also run `rft bench spawn --runs N --json` in the same run")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    report = {"conditions": {"load_average": [float(x) for x in open("/proc/loadavg").read().split()[:3]],
                             "cpus": os.cpu_count(), "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                             "kernel": os.uname().release, "euid": os.geteuid()},
              "runs": args.runs}
    ways = {"plain": WAYS["plain"], "unshare": [shutil.which("unshare") or "/usr/bin/unshare"] + WAYS["unshare"][1:]}
    bwrap = ensure_bwrap()
    if bwrap:
        ways["bwrap"] = [bwrap] + WAYS["bwrap"][1:]
    for name, argv in list(ways.items()):
        try:
            for _ in range(args.warmup):
                spawn_once(argv)
        except (OSError, RuntimeError) as e:
            print(f"{name}: {e}; left out", file=sys.stderr)
            report[f"{name}_error"] = str(e)
            del ways[name]
    times = {name: [] for name in ways}
    for _ in range(args.runs):
        for name, argv in ways.items():
            times[name].append(spawn_once(argv))
    plain = summary(times["plain"])
    for name in ways:
        report[name] = summary(times[name])
        report[name]["ratio"] = round(report[name]["median_us"] / plain["median_us"], 2)
        report[name]["command"] = " ".join(ways[name])
    if args.rft:
        out = subprocess.run([args.rft, "bench", "spawn", "--runs", str(args.runs), "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"rft bench spawn failed ({out.returncode}): {out.stderr.strip()}")
        report["rft"] = json.loads(out.stdout.strip().splitlines()[-1])

    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    c = report["conditions"]
    print(f"spawn + wait of /bin/true, {args.runs} runs each, load average {c['load_average']} at start, "
          f"{c['cpus']} CPUs, kernel {c['kernel']}")
    for name in ways:
        r = report[name]
        print(f"  {name:<8} median {r['median_us']:>8.1f} µs  p90 {r['p90_us']:>8.1f} µs  {r['ratio']:.2f}× plain")
    if "rft" in report:
        r = report["rft"]
        print(f"  rft bench spawn: plain {r['plain_us']} µs, sandboxed {r['sandboxed_us']} µs, {r['ratio']}× "
              f"(load average {r.get('conditions', {}).get('load_average')} at its start)")


if __name__ == "__main__":
    main()
