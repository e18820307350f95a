"""A small OpenAI-compatible chat-completions server that plays the judge, for trying and testing
the judge template without a model. stdlib only; listens on 127.0.0.1.

    /usr/bin/python3 tools/fake_judge_server.py --port 8011 &
    JUDGE_BASE_URL=http://127.0.0.1:8011/v1 JUDGE_MODEL=fake rft grader test .

It scores the judged response (the text inside <response>, <summary>, <reasoning> or <answer> in
the rubric prompt) as a careful judge would, with simple rules. 1 (the lowest) for a response
that says nothing: no words, broken text, one token or phrase repeated, the prompt or rubric copied
back, a refusal, or lines the grader removed as addressed to the evaluator. Otherwise, with a
<reference>: 9 when the response's final line states it (not negated, not hedged, not one of several
answers; comments and code blocks do not count), 2 otherwise; for RAG, 9 when all its words occur
in the <context>, 2 otherwise; 5 when there is neither. Directives in the judged text steer it, for
tests:
  #score=N            reply with score N (1-10 scale; divided by 10 on the 0-1 scale)
  #reply=json|line|bare|fenced|fraction|garbage|outofrange   the shape of the reply
  #fail=429xN #fail=500xN   fail the first N attempts of this exact request
  #slow=S             sleep S seconds before answering
GET /stats returns {"requests": N, "failures": N}. --api-key K requires "Authorization: Bearer K".
"""
import argparse
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_stats = {"requests": 0, "failures": 0}
_attempts = {}


def _tag(text, names):
    for n in names:
        m = re.search(rf"<{n}>\n?(.*?)\n?</{n}>", text, re.S)
        if m:
            return m.group(1).strip()
    return None


def _words(s):
    return set(re.findall(r"[a-z0-9]+", s.lower()))


_ESCAPES = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")
_REFUSAL = re.compile(r"^\W*(?:i\s+(?:do\s*n[o']t|don't)\s+know|i'?m\s+not\s+sure|i\s+(?:cannot|can't)\b|no\s+idea)", re.I)
_HEDGE = re.compile(r"\b(?:or|either|maybe|perhaps|possibly|could\s+be|might\s+be)\b", re.I)


def _token_list(s):
    return re.findall(r"[a-z0-9]+", s.lower())


def _says_nothing(judged, prompt):
    """Why a careful judge would give the lowest score whatever the rubric, or None."""
    if "[removed by the grader" in judged:
        return "addressed the evaluator"
    text = _ESCAPES.sub("", judged)
    if not re.search(r"[^\W_]", text) or re.search("[\x00\x80-\x9f\ufffd]", text):
        return "no words or broken text"
    words = _token_list(text)
    if not words:
        return "no words"
    if len(words) >= 20 and max(words.count(w) for w in set(words)) > len(words) / 2:
        return "one token repeated"
    if len(words) >= 50 and len(set(words)) < len(words) / 10:
        return "one phrase repeated"
    if _REFUSAL.search(text):
        return "a refusal"
    # The prompt or the rubric copied back: most of its 4-word runs occur in the rest of the prompt
    # (the reference and the context left out: quoting those is no echo).
    rest = prompt.replace(judged, " ")
    for name in ("reference", "context"):
        rest = re.sub(rf"<{name}>.*?</{name}>", " ", rest, flags=re.S)
    outside = " ".join(_token_list(rest))
    grams = [" ".join(words[i:i + 4]) for i in range(len(words) - 3)]
    if grams and sum(g in outside for g in grams) > 0.6 * len(grams):
        return "the prompt copied back"
    conversation = _tag(prompt, ["conversation", "question", "problem"]) or ""
    reference = set(_token_list(_tag(prompt, ["reference"]) or ""))
    if len(words) >= 2 and set(words) <= set(_token_list(conversation)) and not set(words) <= reference:
        return "the prompt copied back"
    return None


def _states(judged, ref):
    """The response's final line states the reference: not negated, not hedged, not one of several
    answers; a short reference (a number, a word, a short list) ends its sentence there."""
    text = re.sub(r"<!--.*?-->|```.*?(?:```|$)", " ", judged, flags=re.S)
    lines = [l for l in text.split("\n") if l.strip()]
    if not lines:
        return False
    final, r = lines[-1].lower(), ref.lower().strip()
    found = list(re.finditer(r"(?<![\w.])" + re.escape(r) + r"(?!\w)", final))
    if not found or re.search(r"\bnot\s+(?:\W\s*)?" + re.escape(r), final):
        return False
    if _HEDGE.search(final.replace(r, " ")) or any(judged.lower().count(m) > 1 for m in ("\\boxed", "answer is", "####")):
        return False
    if len(_token_list(r)) <= 3:
        before, after = final[:found[-1].start()].rstrip(), final[found[-1].end():]
        if before.endswith(("(", ",", "[")) or re.search(r"[^\W_]", re.split(r"[.!?;]\s|\n", after + " ", maxsplit=1)[0]):
            return False
    return True


def decide(prompt):
    """(reply text) for one rubric prompt."""
    judged = _tag(prompt, ["response", "summary", "reasoning", "answer"]) or ""
    ref = _tag(prompt, ["reference"])
    ctx = _tag(prompt, ["context"])
    m = re.search(r"#score=(\d+(?:\.\d+)?)", judged)
    clean = re.sub(r"#\w+=\S+", "", judged)
    if m:
        score = float(m.group(1))
    elif _says_nothing(clean, prompt):
        score = 1
    elif ctx and ctx != "(none)":
        score = 9 if _words(clean) <= _words(ctx) else 2
    elif ref and ref != "(none)":
        score = 9 if _states(clean, ref) else 2
    else:
        score = 5
    zero_one = "from 0.0 (worst) to 1.0" in prompt
    value = round(score / 10, 3) if zero_one else int(score) if score == int(score) else score
    shape = (re.search(r"#reply=(\w+)", judged) or [None, "json"])[1]
    if shape == "line":
        return f"The response is adequate.\nScore: {value}"
    if shape == "bare":
        return f"{value}"
    if shape == "fenced":
        return "```json\n" + json.dumps({"score": value, "reason": "fenced"}) + "\n```"
    if shape == "fraction":
        return f"Rating: {int(score)}/10"
    if shape == "garbage":
        return "I cannot decide on this one."
    if shape == "outofrange":
        return json.dumps({"score": 42})
    return json.dumps({"score": value, "reason": "rule-based fake judge"})


class Handler(BaseHTTPRequestHandler):
    api_key = None

    def log_message(self, *args):
        pass

    def _send(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.rstrip("/") == "/stats":
            with _lock:
                return self._send(200, dict(_stats))
        self._send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if self.api_key and self.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._send(401, {"error": {"message": "bad api key"}})
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            body = json.loads(raw)
            prompt = body["messages"][-1]["content"]
            model = body["model"]
        except (ValueError, KeyError, IndexError, TypeError):
            return self._send(400, {"error": {"message": "expected a chat completion request"}})
        key = hashlib.sha256(raw).hexdigest()
        with _lock:
            _stats["requests"] += 1
            _attempts[key] = _attempts.get(key, 0) + 1
            attempt = _attempts[key]
        judged = _tag(prompt, ["response", "summary", "reasoning", "answer"]) or ""
        slow = re.search(r"#slow=(\d+(?:\.\d+)?)", judged)
        if slow:
            time.sleep(float(slow.group(1)))
        fail = re.search(r"#fail=(\d{3})x(\d+)", judged)
        if fail and attempt <= int(fail.group(2)):
            with _lock:
                _stats["failures"] += 1
            return self._send(int(fail.group(1)), {"error": {"message": "injected failure"}},
                              {"Retry-After": "0"} if fail.group(1) == "429" else None)
        reply = decide(prompt)
        self._send(200, {"id": "fake-" + key[:12], "object": "chat.completion", "model": model,
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": reply}}],
                         "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 10}})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass   # clients that time out and hang up are expected in tests


def start(port=0, api_key=None):
    """Starts the server on 127.0.0.1 in a background thread; returns it (server.server_port)."""
    handler = type("BoundHandler", (Handler,), {"api_key": api_key})
    server = QuietServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8011, help="0 picks a free port (printed on the first line)")
    ap.add_argument("--api-key", default=None)
    args = ap.parse_args()
    handler = type("BoundHandler", (Handler,), {"api_key": args.api_key})
    server = QuietServer(("127.0.0.1", args.port), handler)
    print(f"fake judge listening on http://127.0.0.1:{server.server_port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
