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

## bench: release-build benchmarks; figures go to docs/PERFORMANCE.md.
bench: release
	$(RFT) bench spawn --runs 500
	$(RFT) grader bench graders/trivial --samples 20000
	$(RFT) bench model
	$(RFT) bench grpo
	$(RFT) bench serve-rewards --graders graders/trivial --clients 32 --batch 64 --seconds 30

clean:
	rm -rf .build
