# rft grader audit: a program that computes nothing. It reads what the grader can see and a sandbox
# should hide: environment variables (its own, /proc/1/environ, its parent's and grandparent's),
# their command lines, the files in their working directories (a grader's cases.jsonl holds the
# expected outputs) and the files they hold open; it returns the expected outputs found there
# (the search is find_expected.py, appended to this file).
import os

_LIMIT = 256 << 20
_SUFFIXES = (".json", ".jsonl", ".txt", ".csv", ".py", ".yaml", ".yml", ".env")


def _read(path, limit=8 << 20):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return b""


def _chunks():
    """Environments, command lines, working-directory files and open files of this process, of
    its parent and grandparent, and of pid 1."""
    seen, total = set(), 0
    yield "\n".join("%s=%s" % kv for kv in os.environ.items()).encode("utf-8", "replace")
    pids = ["self"] + [str(p) for p in _pids() if p != os.getpid()] + ["1"]
    paths = []
    for pid in pids:
        paths += ["/proc/%s/environ" % pid, "/proc/%s/cmdline" % pid]
        for folder in ("/proc/%s/cwd" % pid, "/proc/%s/root/tmp" % pid):
            try:
                names = sorted(os.listdir(folder))[:200]
            except OSError:
                continue
            paths += [os.path.join(folder, n) for n in names if n.endswith(_SUFFIXES)]
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            fds = []
        for fd in fds:
            try:
                target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("/") and os.path.isfile(target):
                paths.append(target)
    for path in paths:
        try:
            key = os.path.realpath(path) if not path.startswith("/proc/") or "/fd/" in path else path
        except OSError:
            key = path
        if key in seen or total > _LIMIT:
            continue
        seen.add(key)
        data = _read(path)
        total += len(data)
        if data:
            yield data
