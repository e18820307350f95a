"""An OpenAI RFT python grader: grade(sample, item) -> float, unchanged."""
from difflib import SequenceMatcher


def grade(sample: dict, item: dict) -> float:
    output = sample["output_text"].strip().lower()
    reference = str(item["reference_answer"]).strip().lower()
    if output == reference:
        return 1.0
    # Partial credit for near misses (a fuzzy match, like OpenAI's text_similarity grader).
    return round(SequenceMatcher(None, output, reference).ratio() * 0.5, 3)
