"""Score TRL completions with an rft reward server (sandboxed graders over HTTP).

    from trl import GRPOTrainer
    from trl_reward import rft_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[rft_reward("http://127.0.0.1:8080", "math")], ...)

Dataset columns (for example `reference_answer`) reach the grader as sample fields. A sample the
grader could not score comes back as None, which TRL treats as an abstention. Standard library only.
"""
import json
import os

from rft_http import post_json

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
        results = post_json(endpoint, samples, api_key, attempts=retries + 1, timeout=timeout)
        scores = {r["id"]: r.get("aggregate_reward_score") for r in results}
        return [None if scores.get(str(i)) is None else float(scores[str(i)]) for i in range(len(samples))]

    reward.__name__ = f"rft_{grader}"
    return reward


if __name__ == "__main__":
    # Try it: python3 trl_reward.py http://127.0.0.1:8080 GRADER "completion" [reference_answer]
    import sys

    url, grader, completion = sys.argv[1], sys.argv[2], sys.argv[3]
    columns = {"reference_answer": [sys.argv[4]]} if len(sys.argv) > 4 else {}
    print(json.dumps(rft_reward(url, grader)(["prompt"], [completion], **columns)))
