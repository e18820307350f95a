#!/usr/bin/env python3
"""PyTorch / Hugging Face / TRL peer for rft's model and GRPO benchmarks, measured in one run.

Sections (--sections, comma-separated; default all):
  train     PyTorch forward + backward + grad clipping + AdamW on 4 sequences x 256 random tokens
            (as `rft bench model`'s "train tok/s"), fastest of --train-steps.
  generate  HF `generate` sampling 64 sequences x 16 new tokens: --prompts prompts of
            --prompt-length random tokens x 64/--prompts completions each, temperature 1, no top-k/top-p,
            KV cache, prefill included (as `rft bench model`'s "sample tok/s"), fastest of --sample-runs.
  grpo      TRL's GRPOTrainer on `rft bench grpo`'s reference step: 8 prompts `Q: a+b=? A:` (in rft's
            byte chat format) x 8 generations, at most 16 new tokens, temperature 1, beta 0.04, one
            iteration per generation, an exact-answer reward, AdamW lr 1e-4, all 64 completions in one
            micro-batch, gradient checkpointing off (TRL's default is on: slower for a model this
            small); median step time over --grpo-steps after --grpo-warmup steps.

The model is a LlamaForCausalLM of the shape of rft's preset (--config ref-1m | demo | dim512) or of an
rft `config.json` (snake_case ModelConfig keys: vocab_size, dim, n_layers, ...), randomly initialised,
float32, on the CPU with torch.set_num_threads(--threads). Each rate is given for wall time and for the
process's CPU time; peak RSS is VmHWM, reset before each section. Prints one JSON object (--json) or text.

  Benchmarks/peer/setup.sh          # once: .venv-peer from PyPI
  .venv-peer/bin/python Benchmarks/peer/pytorch_peer.py --threads 1 --config ref-1m --json
"""
import argparse
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; never reach for the hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import resource
import statistics
import sys
import time

# rft's presets (Sources/TransformerModel/ModelConfig.swift), in its config.json keys.
PRESETS = {
    "ref-1m": dict(vocab_size=260, dim=128, n_layers=4, n_heads=4, ffn_dim=512, max_seq_len=256, tied_embeddings=False),
    "demo": dict(vocab_size=260, dim=192, n_layers=4, n_heads=6, n_kv_heads=2, ffn_dim=512, max_seq_len=512,
                 tied_embeddings=True),
    "dim512": dict(vocab_size=260, dim=512, n_layers=4, n_heads=8, ffn_dim=1536, max_seq_len=256, tied_embeddings=False),
}
# rft's ByteTokenizer: ids 0-255 are bytes, then these four specials.
BYTE_SPECIALS = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|pad|>"]


def conditions():
    """What the run was measured under: load average at start, CPUs, time, versions."""
    import torch
    import transformers
    out = {"load_average": [float(x) for x in open("/proc/loadavg").read().split()[:3]],
           "cpus": os.cpu_count(), "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__}
    try:
        import trl
        out["trl"] = trl.__version__
    except ImportError:
        pass
    return out


def load_config(spec):
    if spec in PRESETS:
        c = dict(PRESETS[spec], name=spec)
    else:
        with open(spec) as f:
            c = dict(json.load(f), name=os.path.basename(os.path.dirname(os.path.abspath(spec))) or spec)
    c.setdefault("n_kv_heads", c["n_heads"])
    c.setdefault("head_dim", c["dim"] // c["n_heads"])
    c.setdefault("rope_theta", 10000.0)
    c.setdefault("norm_eps", 1e-5)
    c.setdefault("tied_embeddings", True)
    if c.get("qk_norm") or c.get("attention_bias"):
        sys.exit(f"pytorch_peer: config {spec}: qk_norm / attention_bias (Qwen) shapes are not supported; use a Llama shape")
    return c


def build_model(c, seed=1):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(seed)
    hf = LlamaConfig(vocab_size=c["vocab_size"], hidden_size=c["dim"], num_hidden_layers=c["n_layers"],
                     num_attention_heads=c["n_heads"], num_key_value_heads=c["n_kv_heads"], head_dim=c["head_dim"],
                     intermediate_size=c["ffn_dim"], max_position_embeddings=c["max_seq_len"],
                     rope_theta=c["rope_theta"], rms_norm_eps=c["norm_eps"], tie_word_embeddings=c["tied_embeddings"],
                     bos_token_id=None, eos_token_id=256 if c["vocab_size"] == 260 else None,
                     pad_token_id=259 if c["vocab_size"] == 260 else 0, attention_bias=False, mlp_bias=False)
    model = LlamaForCausalLM(hf).float()
    return model


def training_flops_per_token(c, t):
    """ModelConfig.trainingFlopsPerToken: 3 x forward (2 per matmul weight + causal attention)."""
    q, kv = c["n_heads"] * c["head_dim"], c["n_kv_heads"] * c["head_dim"]
    per_layer = c["dim"] * (q + 2 * kv) + q * c["dim"] + 3 * c["dim"] * c["ffn_dim"]
    weights = c["n_layers"] * per_layer + c["vocab_size"] * c["dim"]
    attention = c["n_layers"] * 2 * 2 * q * (t + 1) / 2
    return 3 * (2 * weights + attention)


def cpu_seconds():
    return time.process_time()


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(fn, runs):
    """(fastest wall seconds, fastest CPU seconds) of `runs` calls after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu_seconds() - c0)
    return min(walls), min(cpus)


def bench_train(c, args):
    import torch
    reset_peak_rss()
    model = build_model(c)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    batch, length = 4, min(256, c["max_seq_len"])
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, c["vocab_size"], (batch, length), generator=g)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    wall, cpu = timed(step, args.train_steps)
    tokens = batch * length
    flops = training_flops_per_token(c, length)
    return {"tokens_per_s": round(tokens / wall), "cpu_tokens_per_s": round(tokens / cpu),
            "gflops": round(tokens / wall * flops / 1e9, 1), "batch": batch, "seq_len": length,
            "runs": args.train_steps, "peak_rss_mib": peak_rss_mib()}


def bench_generate(c, args):
    import torch
    reset_peak_rss()
    model = build_model(c)
    model.eval()
    g = torch.Generator().manual_seed(3)
    n = 64 // args.prompts
    prompts = torch.randint(0, min(256, c["vocab_size"]), (args.prompts, args.prompt_length), generator=g)
    mask = torch.ones_like(prompts)
    produced = [0]

    def run():
        with torch.inference_mode():
            out = model.generate(input_ids=prompts, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0,
                                 top_p=1.0, max_new_tokens=16, min_new_tokens=16, num_return_sequences=n,
                                 use_cache=True, pad_token_id=model.config.pad_token_id)
        produced[0] = (out.shape[1] - args.prompt_length) * out.shape[0]

    wall, cpu = timed(run, args.sample_runs)
    return {"tokens_per_s": round(produced[0] / wall), "cpu_tokens_per_s": round(produced[0] / cpu),
            "sequences": 64, "prompts": args.prompts, "prompt_length": args.prompt_length, "new_tokens": 16,
            "runs": args.sample_runs, "peak_rss_mib": peak_rss_mib()}


def byte_tokenizer():
    """rft's ByteTokenizer as a fast HF tokenizer: one token per UTF-8 byte (ids 0-255), the four
    specials at 256-259, and rft's byte chat format as the chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet(), key=lambda ch: _byte_of(ch))
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    vocab.update({s: 256 + i for i, s in enumerate(BYTE_SPECIALS)})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|pad|>",
                                   additional_special_tokens=["<|user|>", "<|assistant|>"])
    fast.chat_template = ("{% for m in messages %}{% if m['role'] == 'user' %}<|user|>{% else %}<|assistant|>{% endif %}"
                          "{{ m['content'] }}<|endoftext|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    return fast


def _byte_of(ch):
    """The byte that GPT-2's byte-to-unicode map sends to `ch`."""
    o = ord(ch)
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    if o in printable:
        return o
    others = [b for b in range(256) if b not in printable]
    return others[o - 256]


def bench_grpo(c, args):
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer
    reset_peak_rss()
    rows = [{"prompt": [{"role": "user", "content": f"Q: {a}+{b}=? A:"}], "answer": str(a + b)}
            for a in range(10) for b in range(10)]
    dataset = Dataset.from_list(rows)

    def exact(completions, answer, **_):
        return [1.0 if comp[0]["content"].strip() == ans else 0.0 for comp, ans in zip(completions, answer)]

    total = args.grpo_warmup + args.grpo_steps
    out_dir = f"/tmp/rft-peer-grpo-{os.getpid()}"
    cfg = GRPOConfig(output_dir=out_dir, per_device_train_batch_size=64, num_generations=8, gradient_accumulation_steps=1,
                     max_completion_length=16, temperature=1.0, top_p=1.0, top_k=0, beta=0.04, num_iterations=1,
                     learning_rate=1e-4, max_steps=total, save_strategy="no", report_to="none", logging_steps=10**6,
                     use_cpu=True, bf16=False, fp16=False, seed=1, dataloader_num_workers=0, disable_tqdm=True,
                     log_completions=False, max_grad_norm=1.0,
                     gradient_checkpointing=False)  # TRL's default is on; off is faster for a model this small

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.walls, self.cpus, self.t = [], [], None

        def on_step_begin(self, *a, **k):
            self.t = (time.perf_counter(), cpu_seconds())

        def on_step_end(self, *a, **k):
            self.walls.append(time.perf_counter() - self.t[0])
            self.cpus.append(cpu_seconds() - self.t[1])

    timer = StepTimer()
    # TRL loads the policy and its frozen reference copy from a path: save the random model there.
    model_dir = os.path.join(out_dir, "model")
    build_model(c).save_pretrained(model_dir)
    tokenizer = byte_tokenizer()
    tokenizer.save_pretrained(model_dir)
    try:
        trainer = GRPOTrainer(model=model_dir, reward_funcs=exact, args=cfg, train_dataset=dataset,
                              processing_class=tokenizer, callbacks=[timer])
        trainer.train()
    finally:
        import shutil
        shutil.rmtree(out_dir, ignore_errors=True)
    walls, cpus = timer.walls[args.grpo_warmup:], timer.cpus[args.grpo_warmup:]
    return {"step_seconds": round(statistics.median(walls), 4), "step_cpu_seconds": round(statistics.median(cpus), 4),
            "steps": len(walls), "warmup": args.grpo_warmup, "peak_rss_mib": peak_rss_mib(),
            "prompts": 8, "generations": 8, "max_completion_length": 16, "beta": 0.04}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1, as rft's model)")
    ap.add_argument("--config", default="ref-1m", help="rft preset (%s) or an rft config.json" % ", ".join(PRESETS))
    ap.add_argument("--sections", default="train,generate,grpo", help="comma-separated: train, generate, grpo")
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--sample-runs", type=int, default=7)
    ap.add_argument("--prompts", type=int, default=8, help="distinct prompts among the 64 sampled sequences")
    ap.add_argument("--prompt-length", type=int, default=16)
    ap.add_argument("--grpo-steps", type=int, default=20)
    ap.add_argument("--grpo-warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - {"train", "generate", "grpo"}
    if unknown or 64 % args.prompts:
        ap.error(f"unknown sections {sorted(unknown)}" if unknown else "--prompts must divide 64")

    import torch
    torch.set_num_threads(args.threads)
    c = load_config(args.config)
    cond = conditions()
    report = {"peer": "pytorch", "threads": torch.get_num_threads(), "conditions": cond,
              "config": {"name": c["name"], "params": sum(p.numel() for p in build_model(c).parameters())}}
    import contextlib
    for s in sections:
        with contextlib.redirect_stdout(sys.stderr):  # TRL's and HF's own prints stay off the report
            report[s] = {"train": bench_train, "generate": bench_generate, "grpo": bench_grpo}[s](c, args)
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    print(f"PyTorch peer: {c['name']} ({report['config']['params']:,} parameters), {report['threads']} thread(s), "
          f"torch {cond['torch']}, load average {cond['load_average']} at start")
    if "train" in report:
        r = report["train"]
        print(f"  train     {r['tokens_per_s']:>8,} tok/s wall  {r['cpu_tokens_per_s']:>8,} tok/s CPU  {r['gflops']} GFLOP/s  peak RSS {r['peak_rss_mib']} MiB")
    if "generate" in report:
        r = report["generate"]
        print(f"  generate  {r['tokens_per_s']:>8,} tok/s wall  {r['cpu_tokens_per_s']:>8,} tok/s CPU  peak RSS {r['peak_rss_mib']} MiB")
    if "grpo" in report:
        r = report["grpo"]
        print(f"  grpo      {r['step_seconds']} s/step wall  {r['step_cpu_seconds']} s/step CPU  peak RSS {r['peak_rss_mib']} MiB (TRL {cond.get('trl')})")


if __name__ == "__main__":
    main()
