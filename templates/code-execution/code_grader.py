"""Code-execution grader (rft template, Bedrock reward-Lambda batch contract, stdlib only).

Takes the program from the last fenced code block of the model's answer, runs every test of the
sample's reference_answer in a fresh child process, and scores the fraction of tests passed (or
all-or-nothing). Each test ends with one status: passed, wrong_answer, runtime_error, timeout,
memory_limit or output_limit. Hostile programs (infinite loops, fork bombs, huge output, memory
hogs, daemons that keep pipes open) cost one test each, never the grader.

Tests come from reference_answer (top level or under metadata; a JSON string is decoded) in one of
three shapes:
  {"tests":   [{"stdin": "1 2\\n", "stdout": "3"}]}             stdin/stdout pairs
  {"asserts": ["assert add(1, 2) == 3"]}                          assert statements
  {"function": "add", "cases": [{"args": [1, 2], "expected": 3}]} calls with expected values

Isolation of each test (layered under rft's own sandbox, whose manifest keeps network off):
  * its own session/process group, killed as a whole at the deadline (wall clock, monotonic);
  * rlimits set in the child before any candidate code runs: CPU, address space, processes,
    file size, open files, no core dumps;
  * when the grader runs as root (e.g. `python3 -m unittest` outside rft), the child also drops to a
    fresh unprivileged uid, so the process limit binds and every process it left behind is killed
    by uid afterwards; otherwise the grader becomes a child subreaper and kills what was reparented
    to it;
  * an empty scratch directory as cwd and HOME, removed afterwards; a minimal environment;
  * output read with a cap; results come back on a separate pipe; expected outputs stay in the grader.

Edit config.json (next to this file) to change limits, languages or scoring.
"""
import ast
import json
import math
import os
import random
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

__all__ = ["lambda_handler", "extract_program", "parse_tests", "run_tests", "ReferenceError_", "CONFIG"]

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "_runner.py")
PYTHON = "/usr/bin/python3"
STATUSES = ("passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "output_limit")

DEFAULT_CONFIG = {
    "fence_languages": ["python", "py", "python3"],
    "accept_untagged_fence": True,
    "command": None,
    "filename": "main",
    "scoring": "fraction",
    "timeout_ms": 2000,
    "memory_mb": 256,
    "max_output_bytes": 1_000_000,
    "max_processes": 16,
    "max_file_mb": 16,
    "max_open_files": 64,
    "parallel_tests": 2,
    "max_tests": 20,
    "max_program_chars": 100_000,
    "float_rel_tol": 1e-6,
}


class ReferenceError_(ValueError):
    """The sample's reference_answer does not describe tests in a known shape."""


def _load_config():
    cfg = dict(DEFAULT_CONFIG)
    path = os.path.join(HERE, "config.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            user = json.load(f)
        unknown = sorted(set(user) - set(DEFAULT_CONFIG))
        if unknown:
            raise ValueError(f"{path}: unknown config field(s) {unknown}; known: {sorted(DEFAULT_CONFIG)}")
        cfg.update(user)
    if cfg["scoring"] not in ("fraction", "all_or_nothing"):
        raise ValueError(f"{path}: scoring must be 'fraction' or 'all_or_nothing', got {cfg['scoring']!r}")
    if cfg["command"] is not None and (not isinstance(cfg["command"], list) or not cfg["command"]):
        raise ValueError(f"{path}: command must be null (python) or a list like [\"/bin/bash\", \"{{file}}\"]")
    return cfg

# --------------------------------------------------------------------------- program and tests

_FENCE_RE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)```", re.S)


def extract_program(text, cfg=None):
    """The last fenced block whose language tag is accepted (untagged blocks when allowed), or None."""
    cfg = cfg or CONFIG
    if not isinstance(text, str):
        return None
    langs = {l.lower() for l in cfg["fence_languages"]}
    found = None
    for m in _FENCE_RE.finditer(text):
        tag = m.group(1).lower()
        if tag in langs or (tag == "" and cfg["accept_untagged_fence"]):
            found = m.group(2)
    return found


def _reference(sample):
    ref = sample.get("reference_answer")
    if ref is None and isinstance(sample.get("metadata"), dict):
        ref = sample["metadata"].get("reference_answer")
    if isinstance(ref, str):
        try:
            ref = json.loads(ref)
        except ValueError:
            raise ReferenceError_("reference_answer is a string but not JSON") from None
    return ref


def _split_assert(src):
    """'assert f(2) == 4' -> ('f(2)', 4): the candidate only ever sees the left side.
    Returns None when the assert is not `EXPR == LITERAL` (it then runs whole in the child)."""
    try:
        tree = ast.parse(src.strip())
    except SyntaxError:
        raise ReferenceError_(f"assert {src!r} is not valid Python") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test = tree.body[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    left, right = test.left, test.comparators[0]
    for expr, lit in ((left, right), (right, left)):
        try:
            value = ast.literal_eval(lit)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return ast.unparse(expr), value
    return None


def parse_tests(ref, cfg=None):
    """reference_answer -> list of test dicts. Raises ReferenceError_ naming the bad field."""
    cfg = cfg or CONFIG
    if not isinstance(ref, dict):
        raise ReferenceError_(f"reference_answer must be an object with tests, asserts or function; got {type(ref).__name__}")
    tests = []
    if "tests" in ref:
        if not isinstance(ref["tests"], list):
            raise ReferenceError_("reference_answer.tests must be a list")
        for i, t in enumerate(ref["tests"]):
            if not isinstance(t, dict):
                raise ReferenceError_(f"reference_answer.tests[{i}] must be an object")
            stdin = t.get("stdin", t.get("input", ""))
            stdout = t.get("stdout", t.get("output"))
            if not isinstance(stdin, str) or not isinstance(stdout, str):
                raise ReferenceError_(f"reference_answer.tests[{i}]: stdin and stdout must be strings")
            tests.append({"mode": "stdio", "stdin": stdin, "expected": stdout})
    elif "asserts" in ref:
        if not isinstance(ref["asserts"], list):
            raise ReferenceError_("reference_answer.asserts must be a list of strings")
        for i, a in enumerate(ref["asserts"]):
            if not isinstance(a, str):
                raise ReferenceError_(f"reference_answer.asserts[{i}] must be a string")
            split = _split_assert(a)
            if split is None:
                tests.append({"mode": "assert", "assert": a})
            else:
                tests.append({"mode": "expr", "expr": split[0], "expected": split[1], "python_value": True})
    elif "function" in ref:
        fn, cases = ref["function"], ref.get("cases")
        if not isinstance(fn, str) or not fn.isidentifier():
            raise ReferenceError_("reference_answer.function must be a Python identifier")
        if not isinstance(cases, list):
            raise ReferenceError_("reference_answer.cases must be a list")
        for i, c in enumerate(cases):
            if not isinstance(c, dict) or "expected" not in c:
                raise ReferenceError_(f"reference_answer.cases[{i}] must be an object with args and expected")
            args, kwargs = c.get("args", []), c.get("kwargs", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ReferenceError_(f"reference_answer.cases[{i}]: args must be a list, kwargs an object")
            tests.append({"mode": "call", "function": fn, "args": args, "kwargs": kwargs, "expected": c["expected"]})
    else:
        raise ReferenceError_("reference_answer needs one of: tests, asserts, function")
    if not tests:
        raise ReferenceError_("reference_answer has no tests")
    if len(tests) > cfg["max_tests"]:
        raise ReferenceError_(f"reference_answer has {len(tests)} tests; max_tests is {cfg['max_tests']}")
    if cfg["command"] is not None and any(t["mode"] != "stdio" for t in tests):
        raise ReferenceError_("only stdin/stdout tests can run with a non-Python command")
    return tests

# --------------------------------------------------------------------------- comparing values


def _trim(s):
    return "\n".join(line.rstrip() for line in s.rstrip().split("\n"))


def _canonical_expected(v):
    """Python literal (from an assert) -> the JSON shape the runner reports."""
    if isinstance(v, tuple) or isinstance(v, list):
        return [_canonical_expected(x) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [_canonical_expected(x) for x in v]
        return {"__set__": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else json.dumps(_canonical_expected(k), sort_keys=True)):
                _canonical_expected(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return {"__float__": repr(v)}
    if isinstance(v, complex) or isinstance(v, bytes):
        return {"__repr__": repr(v)}
    return v


def _values_equal(a, b, tol):
    if type(a) is float or type(b) is float:
        if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        return a == b or abs(a - b) <= tol * max(abs(a), abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_values_equal(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k], tol) for k in a)
    return type(a) is type(b) and a == b or (type(a) in (int, bool) and type(b) in (int, bool) and a == b)

# --------------------------------------------------------------------------- running one test

_state_lock = threading.Lock()
_spawn_lock = threading.Lock()   # a spawn and its registration in "running" are atomic for the sweeper
_state = {"root_mode": None, "subreaper": False, "running": set()}


def _root_mode():
    """True when children can be given their own uid (we are real root, not a mapped namespace root)."""
    with _state_lock:
        if _state["root_mode"] is None:
            ok = False
            if os.geteuid() == 0:
                d = tempfile.mkdtemp(prefix="rft-uidprobe-")
                try:
                    os.chown(d, 200_001, 200_001)
                    ok = True
                except OSError:
                    ok = False
                finally:
                    shutil.rmtree(d, ignore_errors=True)
            _state["root_mode"] = ok
            if not ok:
                _become_subreaper()
        return _state["root_mode"]


def _become_subreaper():
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        _state["subreaper"] = libc.prctl(36, 1, 0, 0, 0) == 0   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        _state["subreaper"] = False


def _sweep_orphans():
    """Kills and reaps processes reparented to us (a candidate's escaped daemons)."""
    if not _state["subreaper"]:
        return
    with _spawn_lock:
        _sweep_locked()


def _sweep_locked():
    me = str(os.getpid())
    for _ in range(20):
        found = False
        with _state_lock:
            running = set(_state["running"])
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) in running:
                continue
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    stat = f.read().decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if len(fields) > 1 and fields[1] == me:
                found = True
                try:
                    os.kill(int(pid), signal.SIGKILL)
                    os.waitpid(int(pid), 0)
                except (OSError, ChildProcessError):
                    pass
        if not found:
            return


_KILL_ALL = """import os, time
for _ in range(10):
    try:
        os.kill(-1, 9)
    except OSError:
        break
    time.sleep(0.002)
"""


def _kill_uid(uid):
    """Kills every process of a candidate's private uid (kill(-1) as that uid, from a helper)."""
    try:
        # repeated: a process forked while kill(-1) walks the task list can be missed once
        subprocess.run([PYTHON, "-I", "-S", "-c", _KILL_ALL],
                       user=uid, group=uid, extra_groups=[], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, close_fds=True)
    except (OSError, subprocess.SubprocessError):
        pass


def _run_child(job, stdin_text, cfg):
    """Runs the runner with one job in a fresh scratch dir; cleans up every process it started."""
    limits = {"cpu_s": max(1, math.ceil(cfg["timeout_ms"] / 1000)), "as_mb": cfg["memory_mb"],
              "nproc": cfg["max_processes"], "fsize_mb": cfg["max_file_mb"], "nofile": cfg["max_open_files"]}
    root = _root_mode()
    uid = random.SystemRandom().randrange(200_000, 1_200_000) if root else None
    scratch = tempfile.mkdtemp(prefix="rft-code-")
    if uid is not None:
        os.chown(scratch, uid, uid)
    job = dict(job, limits=limits, uid=uid)
    job_r, job_w = os.pipe()
    res_r, res_w = os.pipe()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": scratch,
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
    proc = None
    try:
        with _spawn_lock:
            proc = subprocess.Popen([PYTHON, "-I", "-S", RUNNER, str(job_r), str(res_w)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    pass_fds=(job_r, res_w), cwd=scratch, env=env, start_new_session=True)
            with _state_lock:
                _state["running"].add(proc.pid)
        os.close(job_r)
        os.close(res_w)
        job_r = res_w = -1
        # the runner reads the whole job before it runs any candidate code, so this cannot block for long
        try:
            with open(job_w, "wb", closefd=True) as f:
                job_w = -1
                f.write(json.dumps(job).encode())
        except (BrokenPipeError, OSError):
            pass
        return _supervise(proc, stdin_text.encode(), res_r, cfg)
    finally:
        for fd in (job_r, res_w, job_w, res_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            for f in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    f.close()
                except OSError:
                    pass
            proc.wait()
            with _state_lock:
                _state["running"].discard(proc.pid)
        if uid is not None:
            _kill_uid(uid)
        else:
            _sweep_orphans()
        shutil.rmtree(scratch, ignore_errors=True)


def _supervise(proc, stdin_bytes, res_r, cfg):
    """Feeds stdin and reads stdout/stderr/result until the program exits, the deadline passes or
    the output cap is hit. Returns (status or None, stdout, result, stderr tail, returncode)."""
    deadline = time.monotonic() + cfg["timeout_ms"] / 1000.0
    cap = cfg["max_output_bytes"]
    sel = selectors.DefaultSelector()
    out, err, res = bytearray(), bytearray(), bytearray()
    pidfd = os.pidfd_open(proc.pid)
    try:
        pending = {proc.stdin.fileno(): memoryview(stdin_bytes)}
        for fd in list(pending):
            os.set_blocking(fd, False)
            if len(pending[fd]) == 0:
                if fd == proc.stdin.fileno():
                    proc.stdin.close()
                pending.pop(fd)
                continue
            sel.register(fd, selectors.EVENT_WRITE, "w")
        readers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err, res_r: res}
        for fd in readers:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ, "r")
        sel.register(pidfd, selectors.EVENT_READ, "exit")
        exited_at = None
        status = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                status = "timeout"
                break
            wait = deadline - now
            if exited_at is not None:
                # the program has exited: drain what is buffered, but never wait on a pipe that a
                # leftover daemon keeps open
                if not readers or now - exited_at > 0.1:
                    break
                wait = min(wait, 0.02)
            for key, _ in sel.select(wait):
                fd, kind = key.fd, key.data
                if kind == "exit":
                    sel.unregister(pidfd)
                    exited_at = time.monotonic()
                elif kind == "w":
                    try:
                        n = os.write(fd, pending[fd])
                        pending[fd] = pending[fd][n:]
                        done = len(pending[fd]) == 0
                    except (BrokenPipeError, OSError):
                        done = True
                    if done:
                        sel.unregister(fd)
                        pending.pop(fd)
                        proc.stdin.close()
                else:
                    try:
                        chunk = os.read(fd, 65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        sel.unregister(fd)
                        readers.pop(fd)
                        continue
                    buf = readers[fd]
                    limit = cap if fd != proc.stderr.fileno() else 65536
                    if len(buf) + len(chunk) > limit:
                        buf += chunk[:max(0, limit - len(buf))]
                        if fd != proc.stderr.fileno():
                            status = "output_limit"
                    else:
                        buf += chunk
            if status is not None:
                break
    finally:
        sel.close()
        os.close(pidfd)
    if status is None:
        # the program has exited by itself
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
    result = None
    lines = [l for l in bytes(res).split(b"\n") if l.strip()]
    if len(lines) > 1:
        # the runner writes exactly one line: more means the program wrote to the result pipe itself
        result = {"status": "tampered"}
    elif lines:
        try:
            result = json.loads(lines[0])
        except ValueError:
            result = {"status": "tampered"}
    return status, bytes(out).decode("utf-8", "replace"), result, bytes(err[-4000:]).decode("utf-8", "replace"), proc.returncode

# --------------------------------------------------------------------------- verdicts


def job_for(test, program, cfg):
    """The job sent to the child for one test: the program and how to call it, never the expected output."""
    job = {"code": program, "mode": test["mode"] if cfg["command"] is None else "exec"}
    if cfg["command"] is not None:
        job.update(command=cfg["command"], filename=cfg["filename"])
    if test["mode"] == "call":
        job.update(function=test["function"], args=test["args"], kwargs=test["kwargs"])
    elif test["mode"] == "expr":
        job["expr"] = test["expr"]
    elif test["mode"] == "assert":
        job["assert"] = test["assert"]
    return job


def _verdict(test, program, cfg):
    """Runs one test; returns (status, detail)."""
    status, stdout, result, stderr, rc = _run_child(job_for(test, program, cfg), test.get("stdin", ""), cfg)
    if status is not None:
        return status, ""
    memory_hint = "MemoryError" in stderr or "Cannot allocate memory" in stderr or "std::bad_alloc" in stderr
    if rc is not None and rc < 0:
        sig = -rc
        if sig == signal.SIGXCPU:
            return "timeout", "CPU time limit"
        if sig == signal.SIGXFSZ:
            return "output_limit", "file size limit"
        if memory_hint or sig in (signal.SIGSEGV, signal.SIGABRT) and "memory" in stderr.lower():
            return "memory_limit", ""
        return "runtime_error", f"killed by signal {sig}"
    if cfg["command"] is not None:
        if rc != 0:
            return ("memory_limit" if memory_hint else "runtime_error"), f"exit status {rc}: {stderr[-300:]}"
        return _compare_stdout(test, stdout)
    if result is None:
        return ("memory_limit" if memory_hint else "runtime_error"), f"no result (exit status {rc}): {stderr[-300:]}"
    st = result.get("status")
    if st == "memory_error":
        return "memory_limit", ""
    if st == "exception":
        if result.get("type") == "MemoryError":
            return "memory_limit", ""
        return "runtime_error", f"{result.get('type')}: {result.get('error', '')}"
    if st == "exit":
        return ("runtime_error" if result.get("code") else "wrong_answer"), "program exited before the test ran"
    if st == "assertion_failed":
        return "wrong_answer", "assertion failed"
    if st == "bad_value":
        return "wrong_answer", result.get("error", "")
    if st == "file_limit":
        return "output_limit", "file size limit"
    if st == "tampered":
        return "runtime_error", "the program wrote to the grader's result channel"
    if st != "ok":
        return "runtime_error", f"unknown runner status {st!r}"
    if test["mode"] == "stdio":
        return _compare_stdout(test, stdout)
    if test["mode"] == "assert":
        return "passed", ""
    expected = _canonical_expected(test["expected"]) if test.get("python_value") else test["expected"]
    return ("passed" if _values_equal(result.get("value"), expected, cfg["float_rel_tol"]) else "wrong_answer"), ""


def _compare_stdout(test, stdout):
    return ("passed" if _trim(stdout) == _trim(test["expected"]) else "wrong_answer"), ""


def run_tests(program, tests, cfg=None):
    """Runs each test in its own child process; returns a list of (status, detail)."""
    cfg = cfg or CONFIG
    if len(program) > cfg["max_program_chars"]:
        return [("runtime_error", "program too long")] * len(tests)
    workers = max(1, int(cfg["parallel_tests"]))
    if workers == 1 or len(tests) == 1:
        return [_verdict(t, program, cfg) for t in tests]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda t: _verdict(t, program, cfg), tests))


def _response_text(sample):
    msgs = sample.get("messages")
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "assistant":
                c = m.get("content")
                if isinstance(c, list):
                    c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
                return c if isinstance(c, str) else ""
    for key in ("response", "completion", "output_text"):
        if isinstance(sample.get(key), str):
            return sample[key]
    return ""


def score_sample(sample, cfg=None):
    cfg = cfg or CONFIG
    tests = parse_tests(_reference(sample), cfg)
    program = extract_program(_response_text(sample), cfg)
    metrics = []
    if program is None:
        verdicts = []
    else:
        verdicts = run_tests(program, tests, cfg)
    passed = sum(1 for s, _ in verdicts if s == "passed")
    if cfg["scoring"] == "all_or_nothing":
        score = 1.0 if verdicts and passed == len(tests) else 0.0
    else:
        score = passed / len(tests) if verdicts else 0.0
    metrics.append({"name": "tests_passed", "value": score, "type": "Reward"})
    metrics.append({"name": "format_ok", "value": 0.0 if program is None else 1.0, "type": "Metric"})
    for st in STATUSES:
        metrics.append({"name": st, "value": float(sum(1 for s, _ in verdicts if s == st)), "type": "Metric"})
    for i, (st, _) in enumerate(verdicts):
        metrics.append({"name": f"test_{i}/{st}", "value": 1.0 if st == "passed" else 0.0, "type": "Metric"})
    return {"id": sample.get("id"), "aggregate_reward_score": score, "metrics_list": metrics}


def lambda_handler(event, context=None):
    """Bedrock batch contract. A sample with malformed tests gets {"id", "error": {"type":
    "invalid_reference", "message"}}; the rest of the batch is still scored."""
    samples = event if isinstance(event, list) else [event]
    out = []
    for sample in samples:
        sid = sample.get("id") if isinstance(sample, dict) else None
        try:
            if not isinstance(sample, dict):
                raise ReferenceError_(f"sample must be an object, got {type(sample).__name__}")
            out.append(score_sample(sample))
        except ReferenceError_ as e:
            out.append({"id": sid, "error": {"type": "invalid_reference", "message": f"invalid_reference: sample {sid}: {e}"}})
    return out


CONFIG = _load_config()
