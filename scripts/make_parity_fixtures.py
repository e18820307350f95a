#!/usr/bin/env python3
"""Build rft's parity fixtures with the reference implementations (dev-time only).

Creates, under Tests/TransformerModelTests/Fixtures/:
  tokenizers/{gpt2,llama3,qwen2}/   tiny byte-level BPEs trained with `tokenizers`
                                    (tokenizer.json + tokenizer_config.json)
  tokenizers/encodings.json         reference ids for a set of texts, per tokenizer
  llama-tiny/  qwen2-tiny/  qwen3-tiny/
                                    tiny random models saved by `transformers`
                                    (config.json, safetensors, tokenizer files),
                                    reference.json (prompt ids, greedy continuation,
                                    chat-template ids) and reference.safetensors
                                    (full logits per prompt)
  dtypes.safetensors                one tensor in F32, F16 and BF16

Usage (needs torch, transformers, tokenizers; not a runtime dependency):
  python3 -m venv /work/.venv-parity
  /work/.venv-parity/bin/pip install torch transformers tokenizers
  /work/.venv-parity/bin/python scripts/make_parity_fixtures.py
"""
import json
import os
import shutil
import sys
import zlib

import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import (LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TransformerModelTests", "Fixtures")

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

CORPUS = [
    "The quick brown fox jumps over the lazy dog. It's a sunny day, isn't it?",
    "We'll see what they've done: 12345 apples and 678 oranges were counted in 2024.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # prints 5\n",
    "Reinforcement fine-tuning rewards the model for correct answers; graders score each sample.",
    "The answer is 42. The answer is 17. The answer is 1000000.",
    "Café, naïve, résumé, Straße, Ελληνικά, русский, 日本語, 中文, emoji 🙂🚀.",
    "user: what is 2+2?\nassistant: 2+2 = 4\n",
    "   indented text\twith tabs\r\nand windows line endings\r\n",
    "I'M SHOUTING, YOU'RE LISTENING, THEY'D AGREE, WE'VE WON.",
] * 20

TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "It's 2024 and they've counted 1234567 apples; we'll see.",
    "I'M SHOUTING AND YOU'RE NOT",
    "def f(x):\n    return x * 2\n\n\n",
    "  leading spaces and trailing   ",
    "tabs\tand\r\nCRLF\n\nnewlines",
    "Café naïve Straße Ελληνικά 日本語 🙂🚀",
    "e\u0301 combining accent (NFC makes it é)",
    "numbers: 1 12 123 1234 12345 3.14159",
    "<|im_start|>user\nhi<|im_end|> and <|endoftext|>",
    "",
]

MESSAGES = [
    {"role": "system", "content": "You are a careful math tutor."},
    {"role": "user", "content": "What is 12 + 30?"},
    {"role": "assistant", "content": "12 + 30 = 42."},
    {"role": "user", "content": "And 7 * 6?"},
]

CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def fuzz_texts(n, seed):
    """Random strings mixing the character classes the split patterns treat differently."""
    import random
    r = random.Random(seed)
    pieces = ["a", "Z", "é", "ß", "Ω", "я", "日本", "한", "٣", "7", "42", "12345", " ", "  ", "\t", "\n", "\r\n", "\n\n ",
              "\u00a0", "\u3000", "\x0b", "\x0c", "\x85", "\u2028", "\u2009", "\u180e", "\u1680", "ǅ", "ʰ", "〇", "Ⅻ", "'s", "'T", "'ll", "'VE", "n't", "!", "?!", "...", "-", "_", "$", "#", "(", ")", "{", "}",
              "\"", "\\", "/", "@", "🙂", "👍🏽", "\u200b", "e\u0301", "ﬁ", "Ⅻ", "½", "x²", "\x00", "\x7f", "<|", "|>", "<|im_end|>"]
    out = []
    for _ in range(n):
        k = r.randint(1, 12)
        out.append("".join(r.choice(pieces) if r.random() < 0.6 else r.choice(["the", " cat", " running", "Hello", " world", "IT'S", " 2024"])
                           for _ in range(k)))
    return out


def train_tokenizer(kind):
    """A tiny byte-level BPE in the style of GPT-2, Llama-3 or Qwen2."""
    bpe = models.BPE(ignore_merges=(kind == "llama3"))
    tok = Tokenizer(bpe)
    if kind == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        specials = ["<|endoftext|>"]
    else:
        pattern = LLAMA3_PATTERN if kind == "llama3" else QWEN2_PATTERN
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        if kind == "qwen2":
            tok.normalizer = normalizers.NFC()
            specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        else:
            specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=360, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok, specials


def save_tokenizer(tok, kind, specials, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    if kind == "llama3":
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>",
                                       eos_token="<|eot_id|>", pad_token="<|end_of_text|>")
        fast.chat_template = LLAMA3_TEMPLATE
    elif kind == "qwen2":
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
        fast.chat_template = CHATML_TEMPLATE
    else:
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    fast.save_pretrained(out_dir)
    path = os.path.join(out_dir, "tokenizer.json")
    with open(path) as f:
        data = json.load(f)
    merges = data["model"]["merges"]
    if kind == "gpt2":
        # Exercise the older "a b" string form of merges too.
        data["model"]["merges"] = [m if isinstance(m, str) else " ".join(m) for m in merges]
        # As in GPT-2's own tokenizer.json.
        data["model"]["continuing_subword_prefix"] = ""
        data["model"]["end_of_word_suffix"] = ""
    with open(path, "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    # Keep only what rft reads.
    for name in os.listdir(out_dir):
        if name not in ("tokenizer.json", "tokenizer_config.json"):
            os.remove(os.path.join(out_dir, name))
    reloaded = PreTrainedTokenizerFast.from_pretrained(out_dir)
    reloaded.chat_template = fast.chat_template
    return reloaded


def reinit(model, seed):
    """Larger-than-default random weights, so every component moves the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)


def build_model(name, tokenizer, tok_kind, prompts):
    out_dir = os.path.join(ROOT, name)
    shutil.rmtree(out_dir, ignore_errors=True)
    vocab = len(tokenizer)
    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=64, max_position_embeddings=64, rms_norm_eps=1e-6, hidden_act="silu",
                  bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                  pad_token_id=tokenizer.pad_token_id)
    if name.startswith("llama"):
        config = LlamaConfig(vocab_size=vocab, tie_word_embeddings=False, rope_theta=10000.0, **common)
        model = LlamaForCausalLM(config)
        shard = "60KB"   # sharded, with model.safetensors.index.json
    elif name.startswith("qwen2"):
        config = Qwen2Config(vocab_size=vocab + 8, tie_word_embeddings=True, rope_theta=1000000.0, **common)
        model = Qwen2ForCausalLM(config)
        shard = "10MB"
    else:
        config = Qwen3Config(vocab_size=vocab + 8, tie_word_embeddings=True, rope_theta=1000000.0, head_dim=16,
                             attention_bias=False, **common)
        model = Qwen3ForCausalLM(config)
        shard = "10MB"
    model = model.to(torch.float32).eval()
    reinit(model, seed=zlib.crc32(name.encode()))
    model.config.use_cache = True
    model.save_pretrained(out_dir, safe_serialization=True, max_shard_size=shard)
    template = tokenizer.chat_template
    tokenizer.chat_template = None
    tokenizer.save_pretrained(out_dir)
    tokenizer.chat_template = template
    for extra in os.listdir(out_dir):
        if extra not in ("tokenizer.json", "tokenizer_config.json", "config.json", "model.safetensors.index.json") \
                and not extra.endswith(".safetensors"):
            os.remove(os.path.join(out_dir, extra))

    ref = {"prompts": [], "chat": None}
    tensors = {}
    with torch.no_grad():
        for i, text in enumerate(prompts):
            ids = tokenizer.encode(text, add_special_tokens=False)
            logits = model(torch.tensor([ids])).logits[0]
            tensors[f"logits.{i}"] = logits.contiguous()
            gen = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=None)
            new = gen[0, len(ids):].tolist()
            # The smallest top-1/top-2 gap along the greedy path: large gaps make the test robust.
            full = model(gen).logits[0, len(ids) - 1:-1]
            top2 = torch.topk(full, 2, dim=-1).values
            ref["prompts"].append({"text": text, "ids": ids, "greedy": new,
                                   "min_greedy_gap": float((top2[:, 0] - top2[:, 1]).min())})
    if tokenizer.chat_template:
        prompt_text = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
        full_text = tokenizer.apply_chat_template(MESSAGES + [{"role": "assistant", "content": "7 * 6 = 42."}],
                                                  tokenize=False)
        ref["chat"] = {"messages": MESSAGES, "reply": "7 * 6 = 42.",
                       "prompt_ids": tokenizer.encode(prompt_text, add_special_tokens=False),
                       "full_ids": tokenizer.encode(full_text, add_special_tokens=False)}
    save_file(tensors, os.path.join(out_dir, "reference.safetensors"))
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
    print(name, "params", sum(p.numel() for p in model.parameters()),
          "min greedy gap", min(p["min_greedy_gap"] for p in ref["prompts"]), file=sys.stderr)


def main():
    torch.manual_seed(0)
    tok_root = os.path.join(ROOT, "tokenizers")
    shutil.rmtree(tok_root, ignore_errors=True)
    fast = {}
    encodings = {}
    for kind in ("gpt2", "llama3", "qwen2"):
        tok, specials = train_tokenizer(kind)
        fast[kind] = save_tokenizer(tok, kind, specials, os.path.join(tok_root, kind))
        t = fast[kind]
        encodings[kind] = [{"text": s,
                            "ids": t.encode(s, add_special_tokens=False),
                            "decoded": t.decode(t.encode(s, add_special_tokens=False))} for s in TEXTS + fuzz_texts(120, 7)]
    with open(os.path.join(tok_root, "encodings.json"), "w") as f:
        json.dump(encodings, f, ensure_ascii=False, indent=1)

    prompts = ["The quick brown fox", "It's 2024; we'll count 12345 apples.", "def f(x):\n    return x"]
    build_model("llama-tiny", fast["llama3"], "llama3", prompts)
    build_model("qwen2-tiny", fast["qwen2"], "qwen2", prompts)
    build_model("qwen3-tiny", fast["qwen2"], "qwen2", prompts)

    x = torch.tensor([[0.0, 1.0, -2.5, 3.140625], [65504.0, 1e-7, -0.0, 6.1e-5]], dtype=torch.float32)
    save_file({"f32": x, "f16": x.to(torch.float16), "bf16": x.to(torch.bfloat16)},
              os.path.join(ROOT, "dtypes.safetensors"), metadata={"source": "make_parity_fixtures.py"})


if __name__ == "__main__":
    main()
