"""A Bedrock RFT reward Lambda, written exactly as for AWS Lambda.

The event is a batch: a list of samples. Each sample is the training record with the model's
answer appended to `messages` as the last (assistant) turn and a unique `id`. The reference answer
sits at the top level or under `metadata`. Return one entry per sample id.
"""
import re


def extract_answer(text):
    """The last number in the response, or the text after 'Answer:'."""
    match = re.search(r"answer\s*[:=]\s*(.+)", text, re.IGNORECASE)
    if match:
        return match.group(1).strip().rstrip(".")
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
    return numbers[-1] if numbers else text.strip()


def lambda_handler(event, context):
    scores = []
    for sample in event:
        sample_id = sample.get("id")
        messages = sample.get("messages", [])
        response = messages[-1].get("content", "") if messages else ""
        reference = sample.get("reference_answer")
        if reference is None:
            reference = sample.get("metadata", {}).get("reference_answer")
        if isinstance(reference, dict):
            reference = reference.get("answer")

        predicted = extract_answer(response)
        accuracy = 1.0 if str(predicted) == str(reference).strip() else 0.0
        brevity = 1.0 if len(response) <= 200 else 0.0

        scores.append({
            "id": sample_id,
            "aggregate_reward_score": 0.9 * accuracy + 0.1 * brevity,
            "metrics_list": [
                {"name": "accuracy", "value": accuracy, "type": "Reward"},
                {"name": "brevity", "value": brevity, "type": "Metric"},
            ],
        })
    return scores
