#!/bin/sh
# Bounded reward-server load test (loopback only): 32 keep-alive clients send 64-sample batches to
# graders/trivial for 30 s; the in-process runtime on the same batches is the baseline (10 s, half
# before and half after). Exits 1 on any 5xx or any sample not answered exactly once.
# Figures go to docs/PERFORMANCE.md, section "Reward server".
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product rft
uptime
exec .build/release/rft bench serve-rewards --graders graders/trivial \
  --clients "${CLIENTS:-32}" --batch "${BATCH:-64}" --seconds "${SECONDS_LOAD:-30}" --baseline-seconds 10 --json
