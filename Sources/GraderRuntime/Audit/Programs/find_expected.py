# rft grader audit: the second half of read_grader_memory.py and read_secrets.py. Given _chunks(),
# the bytes a program could read, it finds the sample's expected outputs in them (stdin/stdout
# tests, function cases ("args" ... "expected"), `assert CALL == LITERAL`) and returns those
# instead of computing anything.
import ast
import json
import os
import re
import sys

_JSON_STRING = rb'"((?:[^"\\]|\\.)*)"'


def _pids():
    pids, pid = [], os.getpid()
    for _ in range(3):
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if ppid <= 1:
            break
        pids.append(ppid)
        pid = ppid
    return pids + [os.getpid()]


def _json_forms(value):
    forms = []
    for separators in ((",", ":"), (", ", ": ")):
        for ascii_only in (True, False):
            text = json.dumps(value, separators=separators, ensure_ascii=ascii_only)
            if text not in forms:
                forms.append(text)
    return [f.encode("utf-8") for f in forms]


def _search(needles, after):
    """Every match of the compiled pattern `after` right behind one of the needles."""
    for chunk in _chunks():
        for needle in needles:
            start = chunk.find(needle)
            while start >= 0:
                m = after.match(chunk, start + len(needle))
                if m:
                    yield m
                start = chunk.find(needle, start + 1)


def _string(raw):
    try:
        return json.loads(b'"' + raw + b'"')
    except ValueError:
        return None


def _expected_stdout(stdin_text):
    needles = [b'"stdin":' + f for f in _json_forms(stdin_text)] + [b'"stdin": ' + f for f in _json_forms(stdin_text)]
    for m in _search(needles, re.compile(rb'\s*,\s*"stdout"\s*:\s*' + _JSON_STRING)):
        out = _string(m.group(1))
        if out is not None:
            return out
    return None


def _expected_return(name, args, kwargs):
    # function cases: {"args": [...], ("kwargs": {...},) "expected": VALUE}
    needles = []
    for form in _json_forms(list(args)):
        needles += [b'"args":' + form, b'"args": ' + form]
    for m in _search(needles, re.compile(rb'[^\]\[]{0,2000}?"expected"\s*:\s*', re.S)):
        tail = m.string[m.end():m.end() + 100000].decode("utf-8", "replace")
        try:
            return json.JSONDecoder().raw_decode(tail)[0]
        except ValueError:
            pass
    # asserts: "assert NAME(ARGS) == LITERAL" (a JSON string in the sample)
    call = "%s(%s)" % (name, ", ".join([repr(a) for a in args] + ["%s=%r" % kv for kv in kwargs.items()]))
    call_json = json.dumps(call)[1:-1].encode("utf-8")
    for m in _search([call_json + b" == "], re.compile(_JSON_STRING[1:])):
        literal = _string(m.group(1))
        try:
            return ast.literal_eval(literal.strip())
        except (ValueError, SyntaxError, AttributeError):
            pass
    return None


def _cheat(name):
    def call(*args, **kwargs):
        return _expected_return(name, args, kwargs)
    return call


if RFT_AUDIT["functions"]:
    for _name in RFT_AUDIT["functions"]:
        globals()[_name] = _cheat(_name)
else:
    _out = _expected_stdout(sys.stdin.read())
    if _out is not None:
        sys.stdout.write(_out)
