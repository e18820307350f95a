"""Score verl rollouts with an rft reward server (sandboxed graders over HTTP): a verl custom reward function.

    custom_reward_function.path=graders/clients/verl_reward.py
    custom_reward_function.name=compute_score
    reward_model.reward_manager=batch      # one request per batch (the naive manager sends one per sample)

The same `compute_score` serves both of verl's call forms:
- naive/prime managers: `compute_score(data_source, solution_str, ground_truth, extra_info=None)` -> float
- batch manager: `compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=)` -> [float]

Each solution reaches the grader as a Bedrock sample: the solution as the assistant turn,
`reference_answer` = ground_truth, plus `data_source` and `extra_info` (a verl-contract grader gets
them back as its arguments). Configured by environment variables, or by verl's
`custom_reward_function.reward_kwargs` (url=, grader=, api_key=), which take precedence:

    RFT_REWARD_URL   the server (default http://127.0.0.1:8080)
    RFT_GRADER       the grader or reward spec to call (required)
    RFT_API_KEY      bearer token, when the server has --api-key-env
    RFT_RETRIES      retries of a 429, a 5xx or a dropped connection (default 5)
    RFT_TIMEOUT      seconds per request (default 180)
    RFT_ERROR_SCORE  the reward of a sample the grader could not score (default 0.0; a warning names it)

Standard library only.
"""
import os
import sys

try:
    from rft_http import post_json
except ImportError:  # verl imports this file by path, so its directory is not on sys.path
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    from rft_http import post_json


def compute_score(data_source=None, solution_str=None, ground_truth=None, extra_info=None,
                  data_sources=None, solution_strs=None, ground_truths=None, extra_infos=None,
                  url=None, grader=None, api_key=None, **_ignored):
    """verl's reward function, single (returns a float) or batched (the `*s` keywords; returns a list)."""
    if solution_strs is None and not isinstance(solution_str, (list, tuple)):
        return score_batch([data_source], [solution_str], [ground_truth], [extra_info], url, grader, api_key)[0]
    if solution_strs is None:  # the batched form called positionally
        data_sources, solution_strs, ground_truths, extra_infos = data_source, solution_str, ground_truth, extra_info
    return score_batch(data_sources, solution_strs, ground_truths, extra_infos, url, grader, api_key)


def score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, url=None, grader=None, api_key=None):
    """One request for the whole batch; the scores in order (verl's arrays may be numpy arrays)."""
    url = url or os.environ.get("RFT_REWARD_URL", "http://127.0.0.1:8080")
    grader = grader or os.environ.get("RFT_GRADER")
    if not grader:
        raise ValueError("verl_reward: set RFT_GRADER (or reward_kwargs.grader) to the grader to call")
    solutions = list(solution_strs)
    n = len(solutions)
    sources = [""] * n if data_sources is None else list(data_sources)
    truths = [None] * n if ground_truths is None else list(ground_truths)
    extras = [None] * n if extra_infos is None else list(extra_infos)
    if not len(sources) == len(truths) == len(extras) == n:
        raise ValueError(f"verl_reward: {n} solutions but {len(sources)} data sources, {len(truths)} ground "
                         f"truths and {len(extras)} extra infos")
    samples = [{"id": str(i), "messages": [{"role": "assistant", "content": solutions[i]}],
                "reference_answer": truths[i], "data_source": sources[i], "extra_info": extras[i]}
               for i in range(n)]
    results = post_json(f"{url.rstrip('/')}/v1/graders/{grader}/invoke", samples,
                        api_key or os.environ.get("RFT_API_KEY"),
                        attempts=int(os.environ.get("RFT_RETRIES", "5")) + 1,
                        timeout=float(os.environ.get("RFT_TIMEOUT", "180")))
    by_id = {r.get("id"): r for r in results}
    error_score = float(os.environ.get("RFT_ERROR_SCORE", "0"))
    scores = []
    for i in range(n):
        result = by_id.get(str(i), {})
        score = result.get("aggregate_reward_score")
        if score is None:
            error = result.get("error") or ({"type": "abstained", "message": "the grader gave no score"} if result
                                            else {"type": "missing", "message": "the server sent no result for it"})
            print(f"verl_reward: sample {i} scored {error_score}: {error.get('type')}: {error.get('message')}",
                  file=sys.stderr)
            score = error_score
        scores.append(float(score))
    return scores


if __name__ == "__main__":
    # Try it: RFT_GRADER=verl-score python3 verl_reward.py "#### 42" 42 [data_source]
    print(compute_score(sys.argv[3] if len(sys.argv) > 3 else "", sys.argv[1], sys.argv[2]))
