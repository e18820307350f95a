"""Child-side harness for one test of one candidate program (rft code-execution template).

Started by code_grader.py as `/usr/bin/python3 -I -S _runner.py JOB_FD RESULT_FD` in a fresh
session and an empty scratch directory. It reads the job (JSON) from JOB_FD and closes it, applies
the resource limits, drops to the job's uid when one is given, then runs the candidate. It reports
one JSON line on RESULT_FD; the candidate's own stdout/stderr stay separate, so prints cannot
forge a result. Expected outputs are never part of the job.

Job fields: code, mode (stdio | call | expr | assert | exec), limits {cpu_s, as_mb, nproc,
fsize_mb, nofile}, uid, function/args/kwargs (call), expr (expr), assert (assert), command (exec).
"""
import errno
import json
import os
import resource
import sys


def _write_result(fd, obj):
    try:
        data = (json.dumps(obj, allow_nan=False) + "\n").encode()
    except (TypeError, ValueError) as e:
        data = (json.dumps({"status": "bad_value", "error": str(e)[:500]}) + "\n").encode()
    try:
        while data:
            n = os.write(fd, data)
            data = data[n:]
    except OSError:
        pass


def _plain(v, depth=0, budget=None):
    """Converts a return value to JSON data, accepting only exact builtin types (so an object
    with a rigged __eq__ or __repr__ cannot pass for the expected value)."""
    if budget is None:
        budget = [100_000]
    budget[0] -= 1
    if depth > 100 or budget[0] < 0:
        raise ValueError("return value too large or too deep")
    t = type(v)
    if v is None or t is bool or t is int or t is str:
        if t is int and v.bit_length() > 4096:
            raise ValueError("integer too large")
        if t is str and len(v) > 1_000_000:
            raise ValueError("string too long")
        return v
    if t is float:
        if v != v or v in (float("inf"), float("-inf")):
            return {"__float__": repr(v)}
        return v
    if t is list or t is tuple:
        return [_plain(x, depth + 1, budget) for x in v]
    if t is set or t is frozenset:
        items = [_plain(x, depth + 1, budget) for x in v]
        return {"__set__": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if t is dict:
        out = {}
        for k, x in v.items():
            if type(k) is not str:
                k = json.dumps(_plain(k, depth + 1, budget), sort_keys=True)
            out[k] = _plain(x, depth + 1, budget)
        return out
    raise ValueError(f"return value of type {t.__name__} is not plain data")


def _limits(lim):
    def setl(res, soft, hard=None):
        try:
            resource.setrlimit(res, (soft, soft if hard is None else hard))
        except (ValueError, OSError):
            pass
    mb = 1024 * 1024
    setl(resource.RLIMIT_CORE, 0)
    setl(resource.RLIMIT_CPU, int(lim["cpu_s"]), int(lim["cpu_s"]) + 1)
    setl(resource.RLIMIT_AS, int(lim["as_mb"]) * mb)
    setl(resource.RLIMIT_FSIZE, int(lim["fsize_mb"]) * mb)
    setl(resource.RLIMIT_NOFILE, int(lim["nofile"]))
    setl(resource.RLIMIT_NPROC, int(lim["nproc"]))


def main():
    job_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    chunks = []
    while True:
        b = os.read(job_fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(job_fd)
    job = json.loads(b"".join(chunks))
    os.set_inheritable(result_fd, False)
    uid = job.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _limits(job["limits"])
    mode = job["mode"]
    if mode == "exec":
        path = os.path.join(os.getcwd(), job.get("filename", "main"))
        with open(path, "w") as f:
            f.write(job["code"])
        os.chmod(path, 0o700)
        cmd = [a.replace("{file}", path) for a in job["command"]]
        os.close(result_fd)
        try:
            os.execv(cmd[0], cmd)
        except OSError as e:
            sys.stderr.write(f"exec {cmd[0]}: {e}\n")
            os._exit(127)
    sys.setrecursionlimit(10_000)
    ns = {"__name__": "__main__" if mode == "stdio" else "__candidate__", "__builtins__": __builtins__}
    del chunks
    result = {"status": "ok"}
    try:
        code = compile(job["code"], "<candidate>", "exec")
        exec(code, ns)
        if mode == "call":
            fn = ns.get(job["function"])
            if not callable(fn):
                raise NameError(f"function {job['function']!r} is not defined")
            result["value"] = _plain(fn(*job.get("args", []), **job.get("kwargs", {})))
        elif mode == "expr":
            result["value"] = _plain(eval(compile(job["expr"], "<test>", "eval"), ns))
        elif mode == "assert":
            exec(compile(job["assert"], "<test>", "exec"), ns)
    except SystemExit as e:
        if e.code not in (None, 0):
            result = {"status": "exit", "code": e.code if isinstance(e.code, int) else 1}
        elif mode in ("call", "expr", "assert"):
            result = {"status": "exit", "code": 0}
    except MemoryError:
        result = {"status": "memory_error"}
    except AssertionError as e:
        result = {"status": "assertion_failed", "error": str(e)[:500]}
    except ValueError as e:
        msg = str(e)
        if "not plain data" in msg or "too large" in msg or "too long" in msg or "too deep" in msg:
            result = {"status": "bad_value", "error": msg[:500]}
        else:
            result = {"status": "exception", "type": "ValueError", "error": msg[:500]}
    except OSError as e:
        if e.errno == errno.EFBIG:
            result = {"status": "file_limit"}
        elif e.errno == errno.ENOMEM:
            result = {"status": "memory_error"}
        else:
            result = {"status": "exception", "type": type(e).__name__, "error": str(e)[:500]}
    except BaseException as e:  # noqa: BLE001 - every candidate failure is reported, never raised
        try:
            msg = str(e)[:500]
        except BaseException:
            msg = "<unprintable>"
        result = {"status": "exception", "type": type(e).__name__, "error": msg}
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    _write_result(result_fd, result)
    os._exit(0)


if __name__ == "__main__":
    main()
