"""Candidate-side call server (rft code-execution template). Runs INSIDE the untrusted sandbox.

code_grader.py starts it through rft's exec service as a session:
    /usr/bin/python3 -I -S -c <this file's source> <program>
It runs the program once (as module __candidate__, so a `__main__` guard does not fire), then serves
calls, one JSON line per request on fd 3 and one JSON line per reply on fd 4:
    -> {"ready": true, "names": {"add": "callable", "N": "value"}}   or {"ready": false, "error": {...}}
    <- {"n": "5f1c…", "call": "add", "args": [1, 2], "kwargs": {}}     -> {"n": "5f1c…", "value": 3}
    <- {"n": "9a0e…", "get": "N"}                                      -> {"n": "9a0e…", "value": 10}
    failures:  {"n": …, "raised": {"type": "ZeroDivisionError", "message": "..."}}  |  {"n": …, "bad_value": "..."}
"n" is a fresh random nonce per request, echoed back: lines written ahead of time never match.

Nothing here is trusted: the program shares this interpreter and may rewrite any of it. The grader
treats every reply as the candidate's answer, decodes it strictly into plain data and compares it
itself, so a forged or rigged reply can never be worth more than computing the right value.
Values travel in a tagged form built from exact builtin types only (no subclasses, no custom __eq__):
None, bool, int, str, finite float and lists as JSON; {"$float": "nan"}, {"$tuple": [...]},
{"$set": [...]}, {"$frozenset": [...]}, {"$dict": [[k, v], ...]}; {"$fn": name} names a candidate function.
"""
import builtins
import json
import os
import sys


class _NotPlain(Exception):
    pass


def _enc(v, depth=0, budget=None):
    if budget is None:
        budget = [200_000]
    budget[0] -= 1
    if depth > 200 or budget[0] < 0:
        raise _NotPlain("the value is too large or too deep")
    t = type(v)
    if v is None or t is bool or t is str:
        return v
    if t is int:
        if v.bit_length() > 10_000:
            raise _NotPlain("integer too large")
        return v
    if t is float:
        return v if v == v and v not in (float("inf"), float("-inf")) else {"$float": repr(v)}
    if t is list:
        return [_enc(x, depth + 1, budget) for x in v]
    if t is tuple:
        return {"$tuple": [_enc(x, depth + 1, budget) for x in v]}
    if t is set or t is frozenset:
        return {"$set" if t is set else "$frozenset": [_enc(x, depth + 1, budget) for x in v]}
    if t is dict:
        return {"$dict": [[_enc(k, depth + 1, budget), _enc(x, depth + 1, budget)] for k, x in v.items()]}
    raise _NotPlain("a value of type %s is not plain data" % t.__name__)


def _dec(v, ns):
    if isinstance(v, list):
        return [_dec(x, ns) for x in v]
    if isinstance(v, dict):
        (tag, x), = v.items()
        if tag == "$float":
            return float(x)
        if tag == "$tuple":
            return tuple(_dec(y, ns) for y in x)
        if tag == "$set":
            return {_dec(y, ns) for y in x}
        if tag == "$frozenset":
            return frozenset(_dec(y, ns) for y in x)
        if tag == "$dict":
            return {_dec(k, ns): _dec(y, ns) for k, y in x}
        if tag == "$fn":
            return ns[x]
        raise ValueError("unknown tag %r" % tag)
    return v


def main():
    program = sys.argv[1]
    rin = os.fdopen(3, "rb", buffering=0)
    rout = os.fdopen(4, "wb", buffering=0)
    os.set_inheritable(3, False)
    os.set_inheritable(4, False)
    dumps, loads = json.dumps, json.loads

    def reply(obj):
        try:
            data = dumps(obj, allow_nan=False)
        except (TypeError, ValueError) as e:
            data = dumps({"bad_value": str(e)[:300]})
        rout.write(data.encode() + b"\n")

    def failure(e):
        try:
            msg = str(e)[:500]
        except BaseException:
            msg = "<unprintable>"
        return {"type": type(e).__name__, "message": msg}

    sys.setrecursionlimit(10_000)
    ns = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        exec(compile(program, "<candidate>", "exec"), ns)
    except BaseException as e:  # noqa: BLE001 - every candidate failure is reported, never raised
        reply({"ready": False, "error": failure(e)})
        os._exit(0)
    names = {}
    for k, v in list(ns.items())[:10_000]:
        if not (k.startswith("__") and k.endswith("__")):
            names[k] = "callable" if callable(v) else "value"
    reply({"ready": True, "names": names})
    while True:
        line = rin.readline()
        if not line:
            os._exit(0)
        req = {}
        try:
            req = loads(line)
            if "get" in req:
                out = {"value": _enc(ns[req["get"]])}
            else:
                fn = ns[req["call"]]
                args = [_dec(a, ns) for a in req.get("args", [])]
                kwargs = {k: _dec(a, ns) for k, a in req.get("kwargs", {}).items()}
                out = {"value": _enc(fn(*args, **kwargs))}
        except _NotPlain as e:
            out = {"bad_value": str(e)}
        except BaseException as e:  # noqa: BLE001
            out = {"raised": failure(e)}
        try:
            sys.stdout.flush()
        except BaseException:
            pass
        out["n"] = req.get("n") if type(req) is dict else None
        reply(out)


if __name__ == "__main__":
    main()
