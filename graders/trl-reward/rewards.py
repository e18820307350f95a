"""A TRL reward function: reward(prompts, completions, **kwargs) -> list[float | None]."""
import re

PATTERN = re.compile(r"^<think>.*?</think>\s*<answer>.*?</answer>$", re.DOTALL)


def format_reward(prompts, completions, **kwargs):
    """1.0 for '<think>...</think><answer>...</answer>', 0.0 otherwise; None (abstain) when the
    dataset marks the row as unscorable. Works for standard and conversational completions."""
    skip = kwargs.get("skip_format") or [None] * len(completions)
    rewards = []
    for completion, unscorable in zip(completions, skip):
        text = completion[0]["content"] if isinstance(completion, list) else completion
        if unscorable:
            rewards.append(None)
        else:
            rewards.append(1.0 if PATTERN.match(text.strip()) else 0.0)
    return rewards
