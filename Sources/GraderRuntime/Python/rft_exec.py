"""rft_exec: run untrusted code in a fresh sandbox of its own, through rft's exec service.

Each run gets its own unprivileged uid and PID, mount, IPC, UTS and network namespaces, a fresh /tmp,
the untrusted-code seccomp profile and the limits asked for (at most the manifest's "exec" values). It
inherits no descriptor and no environment variable of the grader: its environment holds only `env`.
Nothing survives it: its PID namespace and its /tmp die with it.
"""
import threading

__all__ = ["run", "Session", "Result", "ExecError", "SessionEnded", "STATUSES"]

STATUSES = ("ok", "nonzero_exit", "signaled", "timeout", "memory_limit", "output_limit",
            "syscall_violation", "exec_error", "sandbox_error")
_LIMITS = ("timeout_ms", "cpu_ms", "memory_mb", "max_pids", "max_output_bytes", "max_file_mb", "max_open_files")


class ExecError(Exception):
    """The exec service refused the request (bad argv, a limit above the manifest's, no place free)."""


class Result:
    """The typed outcome of one run or session, decided by rft from kernel facts."""
    __slots__ = ("status", "exit_code", "signal", "syscall", "layer", "message", "stdout", "stderr",
                 "stdout_truncated", "stderr_truncated", "wall_ms", "cpu_ms", "peak_memory_bytes")

    def __init__(self, d):
        for k in self.__slots__:
            setattr(self, k, d.get(k))

    @property
    def ok(self):
        return self.status == "ok"

    def __repr__(self):
        return "Result(status=%r, exit_code=%r, wall_ms=%.1f)" % (self.status, self.exit_code, self.wall_ms or 0.0)


class SessionEnded(Exception):
    """The session is over (it timed out, exited, crashed, passed a limit); `result` says how."""
    def __init__(self, result):
        Exception.__init__(self, "session ended: %s%s" % (result.status, ": " + result.message if result.message else ""))
        self.result = result


class _Channel:
    """Demultiplexes the worker's request pipe: batch frames for the bootstrap, exec replies by id."""

    def __init__(self, rfile, wfile, loads, dumps):
        self._r, self._w, self._loads, self._dumps = rfile, wfile, loads, dumps
        self._cond = threading.Condition()
        self._wlock = threading.Lock()
        self._reading = False
        self._closed = False
        self._batches = []
        self._replies = {}
        self._waiting = set()
        self._next = 0

    def write_frame(self, data):
        with self._wlock:
            self._w.write(len(data).to_bytes(4, "big"))
            self._w.write(data)
            self._w.flush()

    def _pump(self, ready):
        # call with _cond held: one thread reads at a time, the others wait for what it dispatches
        while not ready():
            if self._closed:
                raise EOFError("the channel to rft is closed")
            if self._reading:
                self._cond.wait()
                continue
            self._reading = True
            self._cond.release()
            frame = None
            try:
                header = self._r.read(4)
                if len(header) == 4:
                    frame = self._r.read(int.from_bytes(header, "big"))
            finally:
                self._cond.acquire()
                self._reading = False
            if frame is None:
                self._closed = True
            elif frame.startswith(b'{"rft_exec_reply"'):
                reply = self._loads(frame)["rft_exec_reply"]
                if reply.get("id") in self._waiting:
                    self._replies[reply["id"]] = reply
            else:
                self._batches.append(frame)
            self._cond.notify_all()

    def read_frame(self):
        """The next frame that is not an exec reply (a batch request), or None at EOF."""
        with self._cond:
            try:
                self._pump(lambda: self._batches)
            except EOFError:
                return None
            return self._batches.pop(0)

    def request(self, body):
        with self._cond:
            self._next += 1
            rid = self._next
            self._waiting.add(rid)
        try:
            body["id"] = rid
            self.write_frame(self._dumps({"rft_exec": body}).encode())
            with self._cond:
                self._pump(lambda: rid in self._replies)
                reply = self._replies.pop(rid)
        finally:
            with self._cond:
                self._waiting.discard(rid)
        if "error" in reply:
            raise ExecError(reply["error"])
        return reply


_channel = None


def _attach(rfile, wfile, loads, dumps):
    global _channel
    _channel = _Channel(rfile, wfile, loads, dumps)
    return _channel


def _spec(argv, env, limits):
    if isinstance(argv, str) or not all(isinstance(a, str) for a in argv) or not argv:
        raise ExecError("argv must be a non-empty list of strings")
    env = dict(env or {})
    for k, v in env.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ExecError("env must map strings to strings")
    lim = {}
    for k, v in limits.items():
        if k not in _LIMITS:
            raise TypeError("unknown limit %r; known: %s" % (k, ", ".join(_LIMITS)))
        if v is not None:
            lim[k] = int(v)
    return {"argv": list(argv), "env": env, "limits": lim}


def _need():
    if _channel is None:
        raise ExecError("rft_exec needs rft's exec service: run the grader under rft with \"exec\" in grader.json")
    return _channel


def run(argv, stdin="", env=None, **limits):
    """Runs argv to completion in a fresh sandbox; returns its Result. `stdin` is text; `env` the whole
    environment (empty by default); limits: timeout_ms, cpu_ms, memory_mb, max_pids,
    max_output_bytes, max_file_mb, max_open_files."""
    body = _spec(argv, env, limits)
    body["op"] = "run"
    body["stdin"] = stdin or ""
    return Result(_need().request(body)["outcome"])


class Session:
    """A long-lived untrusted process in a fresh sandbox, serving one line per request: it reads
    requests on fd 3 and writes replies on fd 4 (its stdin is empty; its stdout/stderr are logs).
    Nothing it writes is trusted: a reply is data for the grader to check."""

    def __init__(self, argv, env=None, **limits):
        body = _spec(argv, env, limits)
        body["op"] = "open"
        reply = _need().request(body)
        self.result = None
        self._id = reply.get("session")
        if self._id is None:
            self.result = Result(reply["outcome"])
            raise SessionEnded(self.result)

    def call(self, line=None, timeout_ms=None):
        """Sends `line` (omit it to only read) and returns the reply line without its newline.
        Raises SessionEnded when the session is over, with `result` saying how it ended."""
        if self.result is not None:
            raise SessionEnded(self.result)
        body = {"op": "call", "session": self._id}
        if line is not None:
            body["data"] = line
        if timeout_ms is not None:
            body["timeout_ms"] = int(timeout_ms)
        reply = _need().request(body)
        if "outcome" in reply:
            self.result = Result(reply["outcome"])
            raise SessionEnded(self.result)
        return reply["data"]

    def close(self):
        """Ends the session (its PID namespace dies) and returns its Result."""
        if self.result is None:
            try:
                self.result = Result(_need().request({"op": "close", "session": self._id})["outcome"])
            except ExecError:
                self.result = Result({"status": "ok", "message": "closed"})
        return self.result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
