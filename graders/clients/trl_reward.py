"""Score TRL completions with an rft reward server (sandboxed graders over HTTP).

    from trl import GRPOTrainer
    from trl_reward import rft_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[rft_reward("http://127.0.0.1:8080", "math")], ...)

Dataset columns (for example `reference_answer`) reach the grader as sample fields. A sample the
grader could not score comes back as None, which TRL treats as an abstention. Standard library only.
"""
import json
import os
import time
import urllib.error
import urllib.request

# Keyword arguments TRL passes that are not dataset columns.
_TRL_EXTRAS = {"trainer_state", "completion_ids", "log_extra", "log_metric"}


def rft_reward(url, grader, api_key=None, retries=5, timeout=180):
    """Returns a TRL reward function `(prompts, completions, **kwargs) -> list[float | None]`."""
    endpoint = f"{url.rstrip('/')}/v1/graders/{grader}/invoke"
    api_key = api_key or os.environ.get("RFT_API_KEY")

    def reward(prompts, completions, **kwargs):
        samples = []
        for i, (prompt, completion) in enumerate(zip(prompts, completions)):
            messages = list(prompt) if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
            messages += completion if isinstance(completion, list) else [{"role": "assistant", "content": completion}]
            sample = {"id": str(i), "messages": messages}
            for key, column in kwargs.items():
                if key not in _TRL_EXTRAS and isinstance(column, (list, tuple)) and len(column) == len(prompts):
                    sample[key] = column[i]
            samples.append(sample)
        results = _post(endpoint, samples, api_key, retries, timeout)
        scores = {r["id"]: r.get("aggregate_reward_score") for r in results}
        return [None if scores.get(str(i)) is None else float(scores[str(i)]) for i in range(len(samples))]

    reward.__name__ = f"rft_{grader}"
    return reward


def _post(endpoint, body, api_key, retries, timeout):
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    for attempt in range(retries + 1):
        request = urllib.request.Request(endpoint, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            # 429 (queue full) and 5xx are worth retrying; 4xx are the caller's to fix.
            if (error.code != 429 and error.code < 500) or attempt == retries:
                raise RuntimeError(f"rft reward server: {error.code} {error.read().decode(errors='replace')}") from None
            time.sleep(float(error.headers.get("Retry-After") or 2 ** attempt))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if attempt == retries:
                raise
            time.sleep(2 ** attempt)


if __name__ == "__main__":
    # Try it: python3 trl_reward.py http://127.0.0.1:8080 GRADER "completion" [reference_answer]
    import sys

    url, grader, completion = sys.argv[1], sys.argv[2], sys.argv[3]
    columns = {"reference_answer": [sys.argv[4]]} if len(sys.argv) > 4 else {}
    print(json.dumps(rft_reward(url, grader)(["prompt"], [completion], **columns)))
