# rft grader audit: a program that computes nothing. It reads the expected outputs out of the
# memory of the grader (its parent and grandparent, through /proc/<pid>/mem) or of its own process
# (for harnesses that run it in-process), where the sample's tests sit as JSON text, and returns
# them: stdin/stdout tests, function cases ("args" ... "expected") and `assert CALL == LITERAL`.
import ast
import json
import os
import re
import sys

_LIMIT = 512 << 20
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


def _chunks():
    """Readable anonymous memory (heap, arenas) of the parent, grandparent, then this process."""
    total = 0
    for pid in _pids():
        try:
            fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
            with open("/proc/%d/maps" % pid) as f:
                maps = f.read().splitlines()
        except OSError:
            continue
        try:
            for line in maps:
                parts = line.split()
                if len(parts) < 2 or not parts[1].startswith("r"):
                    continue
                if len(parts) > 5 and not parts[5].startswith("["):
                    continue  # file mappings: libraries, not data
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                if hi - lo > (256 << 20) or total > _LIMIT:
                    continue
                try:
                    data = os.pread(fd, hi - lo, lo)
                except OSError:
                    continue
                total += len(data)
                yield data
        finally:
            os.close(fd)


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
