"""Deliberately weak: full marks when the reference appears anywhere in the answer."""


def lambda_handler(event, context):
    out = []
    for s in event:
        answer = s["messages"][-1]["content"]
        reference = str(s.get("reference_answer", ""))
        out.append({"id": s["id"], "aggregate_reward_score": 1.0 if reference and reference.lower() in answer.lower() else 0.0})
    return out
