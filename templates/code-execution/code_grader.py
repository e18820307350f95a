"""Code-execution grader (rft template, Bedrock reward-Lambda batch contract, stdlib only).

Takes the program from the last fenced code block of the model's answer, runs it against the tests
of the sample's reference_answer and scores the fraction of tests passed (or all-or-nothing). Each
test ends with one status: passed, wrong_answer, runtime_error, timeout, memory_limit or output_limit.

The program never runs in this process nor in this grader's sandbox. Every run goes through rft's
exec service (`import rft_exec`, enabled by "exec" in grader.json): a fresh sandbox of its own with
its own uid and PID/mount/IPC/UTS/network namespaces, a fresh /tmp, an empty environment except
what is passed, and the limits of config.json. The verdict is computed here, from plain data:
  {"tests":   [{"stdin": "1 2\\n", "stdout": "3"}]}             one run per test; its captured stdout
                                                                  is compared here
  {"function": "add", "cases": [{"args": [1, 2], "expected": 3}]} the program serves calls in one session
                                                                  per sample (_runner.py); return values
                                                                  come back as plain data, compared here
  {"asserts": ["assert add(1, 2) == 3"]}                          the assert runs HERE, in this trusted
                                                                  interpreter; each call into the
                                                                  candidate's functions is proxied to
                                                                  its session and answered as plain data

Edit config.json (next to this file) to change limits, languages or scoring.
"""
import ast
import builtins
import importlib
import json
import math
import os
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import rft_exec
except ImportError:  # outside rft, or without "exec" in grader.json: every sample reports it
    rft_exec = None

__all__ = ["lambda_handler", "extract_program", "parse_tests", "run_tests", "ReferenceError_", "CONFIG"]

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "_runner.py"), encoding="utf-8") as _f:
    RUNNER_SOURCE = _f.read()
PYTHON = "/usr/bin/python3"
STATUSES = ("passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "output_limit")
# The candidate's whole environment (nothing of the grader's reaches it).
CANDIDATE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp",
                 "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
# Modules an assert may use; they are imported here, never taken from the candidate.
ASSERT_MODULES = ("math", "cmath", "string", "re", "itertools", "functools", "collections", "operator",
                  "fractions", "decimal", "statistics", "heapq", "bisect", "json")

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


class InfraError(Exception):
    """The exec service could not run the program (sandbox_error, or no service): not a verdict."""


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


def _check_assert(src):
    """Validates one assert from the reference; returns it compiled (it runs in the grader)."""
    try:
        tree = ast.parse(src.strip())
    except SyntaxError:
        raise ReferenceError_(f"assert {src!r} is not valid Python") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        raise ReferenceError_(f"{src!r} is not a single assert statement")
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    return compile(tree, "<test>", "exec"), names


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
            code, names = _check_assert(a)
            tests.append({"mode": "assert", "assert": a, "code": code, "names": names})
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


def _canonical(v):
    """A decoded value -> the JSON shape `expected` is written in (tuples as lists, sets tagged)."""
    if isinstance(v, (tuple, list)):
        return [_canonical(x) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [_canonical(x) for x in v]
        return {"__set__": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else json.dumps(_canonical(k), sort_keys=True)): _canonical(x)
                for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return {"__float__": repr(v)}
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

# --------------------------------------------------------------------------- plain data on the wire


class _Malformed(ValueError):
    pass


def _enc(v, depth=0):
    """Grader value -> the tagged wire form (same as _runner.py); candidate functions as {"$fn": name}."""
    if depth > 100:
        raise _Malformed("argument too deep")
    t = type(v)
    if isinstance(v, _Proxy):
        return {"$fn": v.name}
    if v is None or t in (bool, int, str):
        return v
    if t is float:
        return v if math.isfinite(v) else {"$float": repr(v)}
    if t is list:
        return [_enc(x, depth + 1) for x in v]
    if t is tuple:
        return {"$tuple": [_enc(x, depth + 1) for x in v]}
    if t is set or t is frozenset:
        return {"$set" if t is set else "$frozenset": [_enc(x, depth + 1) for x in v]}
    if t is dict:
        return {"$dict": [[_enc(k, depth + 1), _enc(x, depth + 1)] for k, x in v.items()]}
    raise _Malformed(f"an argument of type {t.__name__} cannot be passed to the candidate")


def _dec(v):
    """The candidate's reply (already json-parsed, so exact builtins) -> a Python value. Strict: any
    object must be exactly one known tag."""
    if v is None or type(v) in (bool, int, float, str):
        return v
    if type(v) is list:
        return [_dec(x) for x in v]
    if type(v) is not dict or len(v) != 1:
        raise _Malformed("not a tagged value")
    (tag, x), = v.items()
    if tag == "$float" and x in ("nan", "inf", "-inf"):
        return float(x)
    if type(x) is not list:
        raise _Malformed(f"bad {tag!r} value")
    if tag == "$tuple":
        return tuple(_dec(y) for y in x)
    if tag in ("$set", "$frozenset"):
        items = [_dec(y) for y in x]
        try:
            return set(items) if tag == "$set" else frozenset(items)
        except TypeError:
            raise _Malformed("unhashable set element") from None
    if tag == "$dict":
        out = {}
        for pair in x:
            if type(pair) is not list or len(pair) != 2:
                raise _Malformed("bad $dict entry")
            k = _dec(pair[0])
            try:
                out[k] = _dec(pair[1])
            except TypeError:
                raise _Malformed("unhashable dict key") from None
        return out
    raise _Malformed(f"unknown tag {tag!r}")


def _parse_line(line):
    """One reply line from the candidate -> a dict, or _Malformed. Nothing in it is trusted."""
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError):
        raise _Malformed("the reply is not JSON") from None
    if type(msg) is not dict:
        raise _Malformed("the reply is not an object")
    return msg

# --------------------------------------------------------------------------- running the candidate


class _TestFailed(Exception):
    def __init__(self, status, detail=""):
        Exception.__init__(self, detail)
        self.status, self.detail = status, detail


def _limits(cfg):
    return {"timeout_ms": cfg["timeout_ms"], "memory_mb": cfg["memory_mb"], "max_pids": cfg["max_processes"],
            "max_output_bytes": cfg["max_output_bytes"], "max_file_mb": cfg["max_file_mb"],
            "max_open_files": cfg["max_open_files"]}


def _status_of(result):
    """Typed outcome of a run that did not end well -> a test status. sandbox_error is not a verdict."""
    s = result.status
    if s == "sandbox_error":
        raise InfraError(f"sandbox_error ({result.layer}): {result.message}")
    if s in ("timeout", "memory_limit", "output_limit"):
        return s
    if s == "signaled" and result.signal == "SIGXFSZ":
        return "output_limit"
    return _status_of_error((result.stderr or "")[-3000:])


def _status_of_error(text):
    """The status of a program's own failure, from its exception type and message."""
    if "MemoryError" in text or "Cannot allocate memory" in text:
        return "memory_limit"
    if "File too large" in text:   # RLIMIT_FSIZE (Python ignores SIGXFSZ: the write fails with EFBIG)
        return "output_limit"
    return "runtime_error"


def _describe(result):
    tail = (result.stderr or "").strip().splitlines()[-1:] or [""]
    return f"{result.status}: {result.message or ''} {tail[0][:200]}".strip()


def _need_exec():
    if rft_exec is None:
        raise InfraError("this grader runs programs through rft's exec service: run it under rft with "
                         "\"exec\" in grader.json (import rft_exec failed)")


def _call_exec(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except rft_exec.ExecError as e:
        raise InfraError(f"the exec service refused the request: {e}") from None


_WRITE_AND_EXEC = ("import os, sys\npath = '/tmp/' + sys.argv[1]\nwith open(path, 'w') as f:\n    f.write(sys.argv[2])\n"
                   "os.chmod(path, 0o700)\ncmd = [a.replace('{file}', path) for a in sys.argv[3:]]\n"
                   "try:\n    os.execv(cmd[0], cmd)\nexcept OSError as e:\n    sys.stderr.write('exec %s: %s\\n' % (cmd[0], e))\n    os._exit(127)\n")


def _stdio_test(test, program, cfg):
    """One fresh run with the test's stdin; its captured stdout is compared here."""
    if cfg["command"] is None:
        argv = [PYTHON, "-I", "-S", "-c", program]
    else:
        argv = [PYTHON, "-I", "-S", "-c", _WRITE_AND_EXEC, os.path.basename(cfg["filename"]), program] + list(cfg["command"])
    r = _call_exec(rft_exec.run, argv, stdin=test["stdin"], env=CANDIDATE_ENV, **_limits(cfg))
    if r.status != "ok":
        return _status_of(r), _describe(r)
    return ("passed" if _trim(r.stdout) == _trim(test["expected"]) else "wrong_answer"), ""


class _Candidate:
    """The program loaded once in a session of its own, serving calls (see _runner.py). A session that
    dies (timeout, crash, limit) costs the test in progress; the next test starts a fresh one."""

    def __init__(self, program, cfg):
        self.program, self.cfg = program, cfg
        self.session = None
        self.names = {}
        self.load_failure = None

    def _start(self):
        if self.load_failure is not None:
            raise _TestFailed(*self.load_failure)
        argv = [PYTHON, "-I", "-S", "-c", RUNNER_SOURCE, self.program]
        try:
            self.session = _call_exec(rft_exec.Session, argv, env=CANDIDATE_ENV, **_limits(self.cfg))
            line = self.session.call(None, timeout_ms=self.cfg["timeout_ms"])
            msg = _parse_line(line)
        except rft_exec.SessionEnded as e:
            self._fail_load(_status_of(e.result), "while loading: " + _describe(e.result))
        except _Malformed as e:
            self._fail_load("runtime_error", f"while loading: {e}")
        if msg.get("ready") is not True or type(msg.get("names")) is not dict:
            err = msg.get("error") if type(msg.get("error")) is dict else {}
            text = f"{err.get('type')}: {str(err.get('message'))[:300]}"
            self._fail_load(_status_of_error(text), "while loading: " + text)
        self.names = {k: v for k, v in msg["names"].items() if type(k) is str and v in ("callable", "value")}

    def _fail_load(self, status, detail):
        # A program that cannot load fails every test the same way (it would again).
        self.load_failure = (status, detail)
        self.close()
        raise _TestFailed(status, detail)

    def call(self, request, deadline):
        """Sends one request; returns the decoded value or raises _TestFailed."""
        if self.session is None:
            self._start()
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise _TestFailed("timeout", "the test's time ran out")
        nonce = secrets.token_hex(8)
        try:
            line = self.session.call(json.dumps(dict(request, n=nonce)), timeout_ms=left)
        except rft_exec.SessionEnded as e:
            self.session = None
            raise _TestFailed(_status_of(e.result), _describe(e.result)) from None
        try:
            msg = _parse_line(line)
            if msg.get("n") != nonce:
                raise _Malformed("the reply does not answer this request")
            if "value" in msg:
                return _dec(msg["value"])
        except (_Malformed, RecursionError) as e:
            self.close()   # the channel may be out of step: start afresh for the next test
            raise _TestFailed("runtime_error", f"malformed reply: {e}") from None
        raised = msg.get("raised") if type(msg.get("raised")) is dict else None
        if raised is not None:
            text = f"{raised.get('type')}: {str(raised.get('message'))[:300]}"
            raise _TestFailed(_status_of_error(text), text)
        if "bad_value" in msg:
            raise _TestFailed("wrong_answer", f"not plain data: {str(msg['bad_value'])[:300]}")
        self.close()
        raise _TestFailed("runtime_error", "malformed reply")

    def close(self):
        if self.session is not None:
            s, self.session = self.session, None
            s.close()


class _Proxy:
    """A candidate function as seen by an assert: calling it runs it in the candidate's session."""

    def __init__(self, candidate, name, deadline):
        self.candidate, self.name, self.deadline = candidate, name, deadline

    def __call__(self, *args, **kwargs):
        try:
            request = {"call": self.name, "args": [_enc(a) for a in args],
                       "kwargs": {k: _enc(v) for k, v in kwargs.items()}}
        except _Malformed as e:
            raise _TestFailed("runtime_error", str(e)) from None
        return self.candidate.call(request, self.deadline)

    def __repr__(self):
        return f"<candidate function {self.name}>"


def _call_test(test, cand, cfg):
    if cand.session is None:
        cand._start()   # loading has its own timeout_ms
    deadline = time.monotonic() + cfg["timeout_ms"] / 1000.0
    if cand.names.get(test["function"]) != "callable":
        return "runtime_error", f"function {test['function']!r} is not defined"
    try:
        request = {"call": test["function"], "args": [_enc(a) for a in test["args"]],
                   "kwargs": {k: _enc(v) for k, v in test["kwargs"].items()}}
    except _Malformed as e:
        raise ReferenceError_(str(e)) from None
    value = cand.call(request, deadline)
    ok = _values_equal(_canonical(value), test["expected"], cfg["float_rel_tol"])
    return ("passed" if ok else "wrong_answer"), ""


def _assert_test(test, cand, cfg):
    """Evaluates the assert here; names resolve to this interpreter's builtins, then to the allowed
    modules (imported here), then to the candidate's globals (functions proxied, values fetched as
    plain data). A candidate can never replace a builtin such as abs."""
    if cand.session is None:
        cand._start()   # loading has its own timeout_ms
    deadline = time.monotonic() + cfg["timeout_ms"] / 1000.0
    ns = {"__builtins__": builtins}
    for name in test["names"]:
        if hasattr(builtins, name):
            continue
        if name in ASSERT_MODULES:
            ns[name] = importlib.import_module(name)
        elif cand.names.get(name) == "callable":
            ns[name] = _Proxy(cand, name, deadline)
        elif cand.names.get(name) == "value":
            try:
                ns[name] = cand.call({"get": name}, deadline)
            except _TestFailed as e:
                if e.status != "wrong_answer":
                    raise
    try:
        exec(test["code"], ns)
    except AssertionError:
        return "wrong_answer", "assertion failed"
    except _TestFailed:
        raise
    except Exception as e:  # noqa: BLE001 - the assert itself raised (TypeError, NameError, ...)
        return "runtime_error", f"{type(e).__name__}: {str(e)[:300]}"
    return "passed", ""


def run_tests(program, tests, cfg=None):
    """Runs the tests of one sample; returns a list of (status, detail). Raises InfraError when the
    exec service cannot run programs at all."""
    cfg = cfg or CONFIG
    _need_exec()
    if len(program) > cfg["max_program_chars"]:
        return [("runtime_error", "program too long")] * len(tests)
    if tests[0]["mode"] == "stdio":
        workers = max(1, int(cfg["parallel_tests"]))
        if workers == 1 or len(tests) == 1:
            return [_stdio_test(t, program, cfg) for t in tests]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda t: _stdio_test(t, program, cfg), tests))
    cand = _Candidate(program, cfg)
    verdicts = []
    try:
        for t in tests:
            try:
                verdicts.append((_call_test if t["mode"] == "call" else _assert_test)(t, cand, cfg))
            except _TestFailed as e:
                verdicts.append((e.status, e.detail))
    finally:
        cand.close()
    return verdicts


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
    "invalid_reference", "message"}}, one the sandbox could not run {"type": "sandbox_error"}; the
    rest of the batch is still scored."""
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
        except InfraError as e:
            out.append({"id": sid, "error": {"type": "sandbox_error", "message": f"sandbox_error: sample {sid}: {e}"}})
    return out


CONFIG = _load_config()
