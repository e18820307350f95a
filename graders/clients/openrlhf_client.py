"""An OpenRLHF-shaped remote reward-model client (what `--remote_rm_url` does), standard library only.

OpenRLHF posts {"query": [...], "prompts": [...], "labels": [...]} to each URL of a comma-separated
list, sharding the batch across them, retries up to 5 times with a 180 s timeout, and reads
{"rewards": [...], "scores": [...], "extra_logs": {...}}.

    python3 openrlhf_client.py http://127.0.0.1:8080/get_reward requests.json
    # requests.json: {"query": [...], "prompts": [...], "labels": [...]}; prints the merged response.
"""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

from rft_http import post_json


def request_rewards(url, query, prompts, labels, api_key=None, retries=5, timeout=180):
    """One POST as OpenRLHF's remote_rm_fn makes it, with its retry policy."""
    return post_json(url, {"query": query, "prompts": prompts, "labels": labels}, api_key,
                     attempts=retries, timeout=timeout, backoff=lambda attempt: 1)


def remote_rm_fn(urls, query, prompts, labels, api_key=None):
    """Shards one batch across comma-separated URLs, as OpenRLHF does, and merges the answers in order."""
    urls = [u for u in urls.split(",") if u]
    size = (len(query) + len(urls) - 1) // len(urls)
    shards = [(u, slice(i * size, (i + 1) * size)) for i, u in enumerate(urls) if i * size < len(query)]
    with ThreadPoolExecutor(len(shards)) as pool:
        answers = list(pool.map(lambda s: request_rewards(s[0], query[s[1]], prompts[s[1]], labels[s[1]], api_key), shards))
    merged = {"rewards": [], "scores": [], "extra_logs": {}}
    for answer in answers:
        merged["rewards"] += answer["rewards"]
        merged["scores"] += answer.get("scores", answer["rewards"])
        for key, values in answer.get("extra_logs", {}).items():
            merged["extra_logs"].setdefault(key, []).extend(values)
    return merged


if __name__ == "__main__":
    with open(sys.argv[2]) as f:
        batch = json.load(f)
    n = len(batch["query"])
    print(json.dumps(remote_rm_fn(sys.argv[1], batch["query"], batch.get("prompts", [""] * n),
                                  batch.get("labels", [None] * n))))
