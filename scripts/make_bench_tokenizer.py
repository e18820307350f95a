#!/usr/bin/env python3
"""Train a 65,536-token Qwen2-style byte-level BPE on the Python standard library's sources and
write a 2 MB text sample, for `rft bench tokenizer` (dev-time; needs `tokenizers`).

  /work/.venv-parity/bin/python scripts/make_bench_tokenizer.py /tmp/bigtok
  .build/release/rft bench tokenizer --tokenizer /tmp/bigtok/tok --text /tmp/bigtok/corpus2m.txt \
      --baseline-python /work/.venv-parity/bin/python
"""
import glob
import os
import sys
import sysconfig

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


def main():
    out = sys.argv[1]
    os.makedirs(f"{out}/tok", exist_ok=True)
    files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "**", "*.py"), recursive=True))
    texts = [open(f, encoding="utf-8", errors="replace").read() for f in files]
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=65536, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.save(f"{out}/tok/tokenizer.json")
    with open(f"{out}/corpus2m.txt", "w", encoding="utf-8") as f:
        f.write("".join(texts)[:2_000_000])


if __name__ == "__main__":
    main()
