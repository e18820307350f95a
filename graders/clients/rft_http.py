"""The HTTP call every rft client makes (TRL, OpenRLHF, verl): one JSON POST, with retries.

A 429 (the server's queue is full) and a 5xx are retried after the server's Retry-After, else after
`backoff(attempt)` seconds; a refused or dropped connection and a timeout are retried after
`backoff(attempt)`. Any other HTTP error (an unknown grader, a bad token, a malformed body) is the
caller's to fix and raises at once. Standard library only.
"""
import json
import time
import urllib.error
import urllib.request


def _plain(value):
    """JSON for values trainers hand over that json cannot write: numpy scalars and arrays."""
    for method in ("tolist", "item"):
        if callable(getattr(value, method, None)):
            return getattr(value, method)()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def post_json(url, body, api_key=None, attempts=6, timeout=180, backoff=lambda attempt: 2 ** attempt):
    """POSTs `body` as JSON to `url` and returns the decoded answer, trying up to `attempts` times."""
    data = json.dumps(body, default=_plain).encode()
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    for attempt in range(attempts):
        last = attempt == attempts - 1
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if (error.code != 429 and error.code < 500) or last:
                raise RuntimeError(f"rft reward server {url}: {error.code} {error.read().decode(errors='replace')}") from None
            time.sleep(float(error.headers.get("Retry-After") or backoff(attempt)))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if last:
                raise
            time.sleep(backoff(attempt))
