#!/bin/sh
# Creates the optional benchmark peers' venv (.venv-peer, gitignored) from PyPI alone: torch (PyPI's
# Linux wheel; it runs on the CPU, its CUDA libraries stay unused), transformers (with Hugging Face
# `tokenizers`), trl, and math-verify. Used by Benchmarks/peer/pytorch_peer.py, `rft bench grpo`
# (which runs the TRL peer when this venv exists), `rft bench tokenizer --baseline-python`, the math
# comparisons in Benchmarks/, and `make bench`. Versions are pinned so the peer figures in docs/PERFORMANCE.md can be reproduced.
# About 4 GB of wheels; run once. VENV=path overrides the location.
set -eu
cd "$(dirname "$0")/../.."
VENV="${VENV:-.venv-peer}"
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  else echo "missing python3-venv; run: sudo apt-get install -y python3-venv"; exit 1; fi
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --disable-pip-version-check -q \
  torch==2.15.0 transformers==5.23.0 trl==1.16.0 accelerate==1.15.0 datasets math-verify==0.9.0
"$VENV/bin/python" -c 'import torch, transformers, trl; print("peer venv:", "torch", torch.__version__, "transformers", transformers.__version__, "trl", trl.__version__)'
