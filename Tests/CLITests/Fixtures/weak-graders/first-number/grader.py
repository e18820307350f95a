"""Deliberately weak: compares the first number in the answer with the reference."""
import re


def lambda_handler(event, context):
    out = []
    for s in event:
        answer = s["messages"][-1]["content"]
        m = re.search(r"-?\d+(?:\.\d+)?", answer)
        try:
            right = m is not None and float(m.group()) == float(s["reference_answer"])
        except ValueError:
            right = False
        out.append({"id": s["id"], "aggregate_reward_score": 1.0 if right else 0.0})
    return out
