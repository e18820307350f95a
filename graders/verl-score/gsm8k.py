"""A verl reward: compute_score(data_source, solution_str, ground_truth, extra_info=None)."""
import re


def extract_solution(solution_str):
    """GSM8K style: the number after the last '####'."""
    matches = re.findall(r"####\s*(-?[0-9.,]+)", solution_str)
    return matches[-1].replace(",", "").rstrip(".") if matches else None


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    answer = extract_solution(solution_str)
    formatted = 1.0 if answer is not None else 0.0
    score = 1.0 if answer is not None and answer == str(ground_truth) else 0.0
    return {"score": score, "formatted": formatted, "length": len(solution_str)}
