#!/usr/bin/env python3
"""Check `rft export` against Hugging Face transformers (dev-time; needs torch + transformers).

Exports an rft checkpoint, loads it with AutoModelForCausalLM / AutoTokenizer, and compares,
for a few prompts: the chat-template prompt ids and the greedy completion that
`rft generate` produces.

  /work/.venv-parity/bin/python scripts/check_hf_export.py .build/release/rft runs/sft-demo
"""
import json
import subprocess
import sys
import tempfile

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = ["What is 12 + 30?", "Greet Ann.", "Say something in français 🙂", "  spaces\tand\nnewlines "]


def main():
    rft, ckpt = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp(prefix="rft-export-")
    subprocess.run([rft, "export", "--model", ckpt, "--out", out], check=True)
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    cfg = json.load(open(f"{out}/config.json"))
    stop = [tok.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|eot_id|>") if t in tok.get_vocab()] + [tok.eos_token_id]
    failures = 0
    for p in PROMPTS:
        text = tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
        ids = tok.encode(text, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(torch.tensor([ids]), max_new_tokens=24, do_sample=False, eos_token_id=stop,
                                 pad_token_id=tok.pad_token_id)
        hf = tok.decode(gen[0, len(ids):], skip_special_tokens=True)
        r = subprocess.run([rft, "generate", "--model", ckpt, "--prompt", p, "--json", "--max-new-tokens", "24"],
                           check=True, capture_output=True, text=True)
        mine = json.loads(r.stdout)["completion"]
        ok = hf == mine
        failures += not ok
        print(f"{'ok  ' if ok else 'DIFF'} {cfg['model_type']} {p!r}: transformers {hf!r} | rft {mine!r}")
    print(f"{len(PROMPTS) - failures} of {len(PROMPTS)} greedy completions identical")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
