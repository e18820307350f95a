import sys, os, time

# The frame codec. `import json` costs about as much CPU as Python's whole start-up (it compiles regular
# expressions), so the worker drives CPython's C scanner and encoder directly; json is the fallback.
try:
    import _json
    _INF = float("inf")

    class _DecodeContext:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = {"NaN": float("nan"), "Infinity": _INF, "-Infinity": -_INF}.__getitem__
        memo = {}

    _scan = _json.make_scanner(_DecodeContext())

    def _default(o):
        raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

    def loads(data):
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        start = 0
        if text[:1].isspace():
            start = len(text) - len(text.lstrip())
        obj, end = _scan(text, start)
        if end != len(text) and text[end:].strip():
            raise ValueError("extra data after the JSON value")
        return obj

    def dumps(obj):
        encode = _json.make_encoder({}, _default, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True)
        return "".join(encode(obj, 0))
except (ImportError, AttributeError):
    import json
    loads = json.loads
    dumps = lambda obj: json.dumps(obj, allow_nan=True)

_GRADER_DIR = [None]

def _own_frame(line):
    # This bootstrap runs from `-c` ("<string>"); importlib's frames are "<frozen ...>": neither is the grader's.
    return not (line.startswith('  File "<string>"') or line.startswith('  File "<frozen '))

def _location(e):
    """file:line of the innermost frame in the grader directory (relative to it), or None."""
    import traceback
    d = _GRADER_DIR[0]
    if not d:
        return None
    loc = None
    for f in traceback.extract_tb(e.__traceback__):
        if f.filename.startswith(d + os.sep):
            loc = "%s:%d" % (os.path.relpath(f.filename, d), f.lineno)
    fn = getattr(e, "filename", None)
    if isinstance(e, SyntaxError) and isinstance(fn, str) and fn.startswith(d + os.sep) and e.lineno:
        loc = "%s:%d" % (os.path.relpath(fn, d), e.lineno)
    return loc

def _error(e):
    import traceback
    tb = [x for x in traceback.format_exception(type(e), e, e.__traceback__) if _own_frame(x)]
    # tb[0] is the "Traceback" header and tb[-1] the "Type: message" line that errorType/errorMessage hold.
    err = {"errorType": type(e).__name__, "errorMessage": str(e),
           "stackTrace": [line.rstrip("\n") for line in tb[1:-1]]}
    loc = _location(e)
    if loc:
        err["location"] = loc
    return err

def _message(e):
    err = _error(e)
    at = " (at %s)" % err["location"] if "location" in err else ""
    return "%s: %s%s\n%s" % (err["errorType"], err["errorMessage"], at, "\n".join(err["stackTrace"][-6:]))

class LambdaContext:
    """The context object Lambda handlers receive."""
    def __init__(self, request_id, function_name, memory_mb, deadline):
        self.aws_request_id = request_id
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + function_name
        self.memory_limit_in_mb = memory_mb
        self.log_group_name = "/rft/graders/" + function_name
        self.log_stream_name = "worker-%d" % os.getpid()
        self.identity = None
        self.client_context = None
        self._deadline = deadline
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

def _content_text(c):
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return "".join(p.get("text", "") for p in c if isinstance(p, dict))
    return "" if c is None else str(c)

def _split(sample):
    """(prompt messages, generated assistant message or None)."""
    msgs = sample.get("messages")
    if not isinstance(msgs, list):
        return [], None
    for i in range(len(msgs) - 1, -1, -1):
        m = msgs[i]
        if isinstance(m, dict) and m.get("role") == "assistant":
            return msgs[:i], m
    return msgs, None

def _output_text(sample):
    if isinstance(sample.get("completion"), str) and not isinstance(sample.get("messages"), list):
        return sample["completion"]
    _, m = _split(sample)
    return "" if m is None else _content_text(m.get("content"))

def _reference(sample):
    if "reference_answer" in sample:
        return sample["reference_answer"]
    md = sample.get("metadata")
    return md.get("reference_answer") if isinstance(md, dict) else None

def _number(v, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _BadOutput("%s must return a float, got %s" % (what, type(v).__name__))
    return float(v)

class _BadOutput(Exception):
    pass

def _per_sample(batch, score_one, what):
    out = []
    for s in batch:
        sid = s.get("id")
        try:
            out.append(score_one(s))
        except _BadOutput as e:
            out.append({"id": sid, "error": {"type": "invalid_output", "message": str(e)}})
        except Exception as e:
            out.append({"id": sid, "error": {"type": "handler_error", "message": _message(e)}})
    return out

def make_dispatch(contract, fn):
    if contract == "bedrock":
        return lambda batch, ctx: fn(batch, ctx)
    if contract == "openai":
        def one(s):
            text = _output_text(s)
            try:
                parsed = loads(text)
            except Exception:
                parsed = None
            sample = {"output_text": text, "output_json": parsed,
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
            item = dict(s)
            prompt, gen = _split(s)
            if gen is not None:
                item["messages"] = prompt
            if "reference_answer" not in item and _reference(s) is not None:
                item["reference_answer"] = _reference(s)
            return {"id": s.get("id"), "aggregate_reward_score": _number(fn(sample, item), "grade()")}
        return lambda batch, ctx: _per_sample(batch, one, "grade()")
    if contract == "verl":
        import inspect
        try:
            params = inspect.signature(fn).parameters
            pass_extra = "extra_info" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
        except (TypeError, ValueError):
            pass_extra = True
        def one(s):
            args = (s.get("data_source", ""), _output_text(s), _reference(s))
            v = fn(*args, extra_info=s.get("extra_info")) if pass_extra else fn(*args)
            if isinstance(v, dict):
                if "score" not in v:
                    raise _BadOutput("compute_score() returned a dict without \"score\"")
                metrics = [{"name": k, "value": float(x), "type": "Metric"} for k, x in v.items()
                           if k != "score" and isinstance(x, (int, float))]
                return {"id": s.get("id"), "aggregate_reward_score": _number(v["score"], "compute_score()[\"score\"]"),
                        "metrics_list": metrics}
            return {"id": s.get("id"), "aggregate_reward_score": _number(v, "compute_score()")}
        return lambda batch, ctx: _per_sample(batch, one, "compute_score()")
    if contract == "trl":
        skip = {"id", "messages", "prompt", "completion"}
        def run(batch, ctx):
            prompts, completions = [], []
            for s in batch:
                if isinstance(s.get("completion"), str) and not isinstance(s.get("messages"), list):
                    prompts.append(s.get("prompt", ""))
                    completions.append(s["completion"])
                else:
                    prompt, gen = _split(s)
                    prompts.append(prompt)
                    completions.append([gen] if gen is not None else [])
            keys = []
            for s in batch:
                for k in s:
                    if k not in skip and k not in keys:
                        keys.append(k)
            kwargs = {k: [s.get(k) for s in batch] for k in keys}
            kwargs["reference_answer"] = [_reference(s) for s in batch]
            values = fn(prompts, completions, **kwargs)
            if not isinstance(values, (list, tuple)) or len(values) != len(batch):
                n = len(values) if isinstance(values, (list, tuple)) else type(values).__name__
                msg = "reward() must return a list of %d floats or None, got %s" % (len(batch), n)
                return [{"id": s.get("id"), "error": {"type": "invalid_output", "message": msg}} for s in batch]
            out = []
            for s, v in zip(batch, values):
                if v is None:
                    out.append({"id": s.get("id"), "aggregate_reward_score": None})
                else:
                    try:
                        out.append({"id": s.get("id"), "aggregate_reward_score": _number(v, "reward()")})
                    except _BadOutput as e:
                        out.append({"id": s.get("id"), "error": {"type": "invalid_output", "message": str(e)}})
            return out
        return run
    raise ValueError("unknown contract %r" % contract)

# -S skips `site` (a sizeable share of start-up); the system's package directories are added directly
# (their .pth files are not processed).
_SITE_DIRS = ["/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages",
              "/usr/lib/python%d.%d/dist-packages" % sys.version_info[:2]]

def load_handler(directory, handler):
    if sys.flags.no_site:
        sys.path.extend(d for d in _SITE_DIRS if d not in sys.path and os.path.isdir(d))
    sys.path.insert(0, directory)
    os.chdir(directory)
    _GRADER_DIR[0] = os.path.abspath(directory)
    module_name, _, func_name = handler.rpartition(".")
    __import__(module_name)
    module = sys.modules[module_name]
    fn = getattr(module, func_name, None)
    if fn is None:
        import difflib
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n, None))]
        close = difflib.get_close_matches(func_name, names, n=1, cutoff=0.6)
        hint = " (did you mean '%s.%s'?)" % (module_name, close[0]) if close else ""
        raise AttributeError("module '%s' has no attribute '%s'%s" % (module_name, func_name, hint))
    if not callable(fn):
        raise TypeError("handler '%s' is not callable" % handler)
    return fn

def inprocess(directory, handler, contract, samples_file, batch_size):
    import json
    with open(samples_file, "rb") as f:
        samples = json.load(f)
    batches = [json.dumps(samples[i:i + batch_size]) for i in range(0, len(samples), batch_size)]
    dispatch = make_dispatch(contract, load_handler(directory, handler))
    ctx = LambdaContext("inprocess", "inprocess", 0, time.monotonic() + 3600)
    real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")
    start = time.perf_counter()
    for text in batches:
        json.dumps(dispatch(json.loads(text), ctx))
    elapsed = time.perf_counter() - start
    sys.stdout = real_stdout
    print(json.dumps({"samples_per_s": len(samples) / elapsed, "samples": len(samples)}))

def _install_exec(source, requests, responses):
    """Makes `import rft_exec` work (module source from rft) and returns its channel demultiplexer."""
    import types
    module = types.ModuleType("rft_exec")
    module.__file__ = "<rft_exec>"
    exec(compile(source, "<rft_exec>", "exec"), module.__dict__)
    sys.modules["rft_exec"] = module
    return module._attach(requests, responses, loads, dumps)

def main():
    start = time.monotonic()
    directory, handler, contract = sys.argv[1], sys.argv[2], sys.argv[3]
    if sys.argv[4] == "--inprocess":
        return inprocess(directory, handler, contract, sys.argv[5], int(sys.argv[6]))
    name, memory_mb = sys.argv[4], int(sys.argv[5])
    # Move the channel above the fds user code is likely to touch, close-on-exec (os.dup2 makes the copy
    # inheritable, so clear that) and close the originals.
    req_fd, resp_fd = 101, 102
    os.dup2(3, req_fd, inheritable=False)
    os.dup2(4, resp_fd, inheritable=False)
    os.close(3)
    os.close(4)
    requests = open(req_fd, "rb", buffering=1 << 16)
    responses = open(resp_fd, "wb", buffering=1 << 16)
    # With "exec" in the manifest, the rft_exec module shares the channel (see _install_exec).
    channel = _install_exec(sys.argv[6], requests, responses) if len(sys.argv) > 6 else None

    def send(obj):
        try:
            data = dumps(obj).encode()
        except (TypeError, ValueError, RecursionError) as e:
            data = dumps({"request_id": obj.get("request_id"),
                               "marshal_error": "the handler's result is not JSON serializable: %s" % e}).encode()
        if channel is not None:
            return channel.write_frame(data)
        responses.write(len(data).to_bytes(4, "big"))
        responses.write(data)
        responses.flush()

    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = name
    os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(memory_mb)
    try:
        dispatch = make_dispatch(contract, load_handler(directory, handler))
    except BaseException as e:
        send({"init_error": _error(e)})
        sys.stdout.flush()
        sys.stderr.flush()
        return
    send({"ready": True, "init_ms": (time.monotonic() - start) * 1000.0})

    while True:
        if channel is not None:
            frame = channel.read_frame()
            if frame is None:
                return
            request = loads(frame)
        else:
            header = requests.read(4)
            if len(header) < 4:
                return
            n = int.from_bytes(header, "big")
            request = loads(requests.read(n))
        rid = request.get("request_id")
        ctx = LambdaContext(rid, name, memory_mb, time.monotonic() + request.get("timeout_ms", 3000) / 1000.0)
        try:
            response = {"request_id": rid, "result": dispatch(request["batch"], ctx)}
        except BaseException as e:
            response = {"request_id": rid, "error": _error(e)}
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        send(response)

main()
