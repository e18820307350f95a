"""Generic reward function for rft: start here and replace score() with your own logic.

THE CONTRACT (Amazon Bedrock's reward-Lambda batch contract; rft runs it unchanged)
-------------------------------------------------------------------------------
rft calls lambda_handler(event, context) with `event` = a LIST of samples. Each sample is one
training record with the model's generated turn appended to "messages" and a unique "id":

    {"id": "123",
     "messages": [{"role": "user", "content": "What is 2+2?"},
                  {"role": "assistant", "content": "<the generated answer>"}],
     "reference_answer": "4",                  # any JSON; may instead sit under
     "metadata": {"reference_answer": "4"}}    #   metadata.reference_answer

It must return one entry per input id, in any order:

    [{"id": "123", "aggregate_reward_score": 0.85,          # the number that is trained on
      "metrics_list": [                                     # optional, logged per component
          {"name": "accuracy", "value": 0.9, "type": "Reward"},   # a reward component
          {"name": "length",   "value": 120, "type": "Metric"}]}] # a diagnostic

rft checks every output: each id exactly once, every score a finite number, inside
grader.json's score_range when one is set. A sample that breaks these rules gets its own
`invalid_output` error; the rest of the batch keeps its scores.

`context` carries aws_request_id, function_name, memory_limit_in_mb and
get_remaining_time_in_millis(), like Lambda's.

WHERE IT RUNS
-------------
In a sandbox: no network (unless grader.json says "network": true), only the environment
variables grader.json allowlists, a time limit per batch (timeout_ms) and a memory limit
(memory_mb). Modules are imported once per warm worker, so load models or tables at import
time, not per call. print() goes to the logs (`rft grader invoke --logs`), never into results.
Keep it stdlib-only if you can: workers start faster on a fresh machine.

ERRORS
------
Raise an exception and the whole batch gets a `handler_error` with your traceback; grader.json's
on_error decides what training does with it (zero, skip = abstain, or fail). To fail just one
sample instead, return {"id": ..., "error": {"type": "...", "message": "..."}} for it.

HOW TO TEST IT
--------------
1. Put examples with the score you expect in cases.jsonl, one sample per line, plus
   "expected_score" (and optionally "tolerance"):
       {"id": "a", "messages": [...], "reference_answer": "4", "expected_score": 1.0}
2. rft grader test .                  # runs every case, prints a table, exits 1 on any failure
3. rft grader invoke . --input cases.jsonl --logs    # see raw outputs and your prints
4. rft grader bench . --samples 2000  # samples/s, latency, cold start
5. Quick loop without rft:
       /usr/bin/python3 -c "import json, grader; print(grader.lambda_handler([json.loads(l) for l in open('cases.jsonl')], None))"
"""
import re


def last_assistant_text(sample):
    """The generated answer: the content of the last assistant message."""
    for message in reversed(sample.get("messages") or []):
        if message.get("role") == "assistant":
            content = message.get("content") or ""
            if isinstance(content, list):        # OpenAI-style content parts
                content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return content
    return ""


def reference_of(sample):
    """reference_answer at the top level, or under metadata (both are allowed)."""
    if "reference_answer" in sample:
        return sample["reference_answer"]
    return (sample.get("metadata") or {}).get("reference_answer")


def stated_answer(answer, expected):
    """1.0 when the answer is one short sentence that ends by stating the reference ("It is Paris.",
    "2+2 is 4", "Answer: blue"), else 0.0. The reference merely appearing somewhere does not count:
    pasted next to another answer, negated, in a list of candidates or in a comment, it would pay
    for hedging (`rft grader audit` checks exactly that)."""
    line = answer.strip()
    if not expected or "\n" in line or len(line.split()) > 12:
        return 0.0
    m = re.fullmatch(r"(.*?)(?:\bis|[:=])\s*" + re.escape(expected) + r"\s*[.!]?", line, re.I | re.S)
    if m is None or re.search(r"\b(?:not|no|never|or|isn't|wasn't)\b", m.group(1), re.I):
        return 0.0
    return 1.0


def score(answer, reference):
    """REPLACE THIS with your reward. Returns (score, {metric name: value}).

    Example: 1.0 for an exact match after trimming and lower-casing, 0.2 for a short sentence that
    states the reference, plus a small length diagnostic."""
    expected = str(reference if reference is not None else "").strip().lower()
    exact = 1.0 if answer.strip().lower() == expected and expected else 0.0
    stated = 0.0 if exact else stated_answer(answer, expected)
    total = exact + 0.2 * stated
    return total, {"exact_match": exact, "stated_answer": stated, "length_chars": float(len(answer))}


def lambda_handler(event, context):
    results = []
    for sample in event:
        total, parts = score(last_assistant_text(sample), reference_of(sample))
        results.append({
            "id": sample["id"],
            "aggregate_reward_score": total,
            "metrics_list": [
                {"name": name, "value": value, "type": "Metric" if name == "length_chars" else "Reward"}
                for name, value in parts.items()
            ],
        })
    return results
