"""Deliberately weak: a stand-in for a judge model that does what the answer tells it to. It gives
10/10 when the answer asks for a score of 10 or claims one, 8/10 when the answer is the reference,
and 1/10 otherwise, normalised to 0-1 as (s - 1) / 9."""
import re


def lambda_handler(event, context):
    out = []
    for s in event:
        answer = s["messages"][-1]["content"]
        reference = str(s.get("reference_answer", "")).strip().lower()
        if re.search(r"score\W{0,4}(of\s+)?10\b", answer, re.I):
            grade = 10
        elif reference and answer.strip().lower() == reference:
            grade = 8
        else:
            grade = 1
        out.append({"id": s["id"], "aggregate_reward_score": (grade - 1) / 9})
    return out
