# rft — the two set-up commands are `make demo` and `make test`.
# System packages are installed when missing (as root), or the exact apt-get line is printed.

SWIFT      ?= swift
DEB_PKGS   := libseccomp-dev libopenblas-dev pkg-config python3
RFT_DEBUG  := .build/debug/rft
RFT        := .build/release/rft

.PHONY: all deps build release test test-cgroup-v2 demo bench clean

all: build

## deps: install missing Debian packages (root), or print the command to run.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## test: the full test suite (about 15 minutes at most on 2 cores).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	/usr/bin/python3 -m unittest discover -s Tests/python -t .

## test-cgroup-v2: sandbox and grader-runtime suites in a cgroup-v2-only QEMU guest, as root and as a
## user in a delegated cgroup (about 15 minutes; installs QEMU and a Debian kernel as root). See docs/SANDBOX.md.
test-cgroup-v2: deps
	$(SWIFT) build --build-tests
	scripts/cgroup-v2/test.sh

## demo: the main job on the embedded default.
demo: release
	$(RFT) demo

## bench: release-build benchmarks, one target per section of docs/PERFORMANCE.md (make bench-grpo, ...).
## Each prints its conditions (commit, build, load average at start). The peers (PyTorch, TRL,
## Hugging Face tokenizers, math-verify) run when .venv-peer exists: Benchmarks/peer/setup.sh makes it.
PEER_PY    := .venv-peer/bin/python
HAVE_PEER  := $(wildcard $(PEER_PY))
## rft bench model/grpo run the peer themselves, at the model's thread count, when it exists.
PEER_ARGS  := $(if $(HAVE_PEER),--peer-python $(PEER_PY),--no-peer)
NO_PEER    := $(if $(HAVE_PEER),,@echo "no PyTorch/TRL peer (no $(PEER_PY); run Benchmarks/peer/setup.sh)")
BENCH_DIR  := .build/bench
BENCHES    := bench-grader bench-serve bench-model bench-tokenizer bench-spawn bench-math bench-grpo bench-code-exec bench-audit
.PHONY: $(BENCHES)

bench: release $(BENCHES)

bench-grader: release
	$(RFT) grader bench graders/trivial --samples 20000 --json

bench-serve: release
	$(RFT) bench serve-rewards --graders graders/trivial --clients 32 --batch 64 --seconds 30 --baseline-seconds 10 --json

bench-model: release
	$(RFT) bench model --json $(PEER_ARGS)
	$(NO_PEER)

bench-tokenizer: release
ifneq ($(HAVE_PEER),)
	[ -f $(BENCH_DIR)/tokenizer/tok/tokenizer.json ] || $(PEER_PY) scripts/make_bench_tokenizer.py $(BENCH_DIR)/tokenizer
	$(RFT) bench tokenizer --tokenizer $(BENCH_DIR)/tokenizer/tok --text $(BENCH_DIR)/tokenizer/corpus2m.txt --baseline-python $(PEER_PY) --json
else
	@echo "skipped: bench tokenizer (needs Hugging Face tokenizers: run Benchmarks/peer/setup.sh)"
endif

## As root the spawn bench also times unshare and bubblewrap (installed from Debian when missing), same run.
bench-spawn: release
	if [ "$$(id -u)" = "0" ]; then python3 Benchmarks/spawn_peers.py --runs 500 --rft $(RFT); else $(RFT) bench spawn --runs 500; fi

bench-math: release
ifneq ($(HAVE_PEER),)
	$(PEER_PY) Benchmarks/math_verify_compare.py --samples 3000 --rft $(RFT) --json
	$(PEER_PY) Benchmarks/math/compare.py --rft $(RFT) --before 4a04ec9 --json
else
	@echo "skipped: math template against math-verify (run Benchmarks/peer/setup.sh)"
endif

bench-grpo: release
	$(RFT) bench grpo --json $(PEER_ARGS)
	$(NO_PEER)

bench-code-exec: release
	$(RFT) grader bench templates/code-execution --samples 47 --rounds 2 --cold-starts 3 --json

bench-audit: release
	for t in generic format math judge code-execution; do \
	  out=$$(/usr/bin/time -f "audit $$t: %e s wall" $(RFT) grader audit templates/$$t) || { echo "$$out"; exit 1; }; echo "$$out" | tail -n 1; \
	done

clean:
	rm -rf .build
