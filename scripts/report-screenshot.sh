#!/bin/sh
# Render a run's HTML report and take a PNG screenshot of it with headless Chromium.
# Usage: scripts/report-screenshot.sh RUN_DIR OUT.png [WIDTH,HEIGHT]
#   e.g. scripts/report-screenshot.sh runs/demo docs/report.png 1280,1500
set -eu
run_dir=${1:?usage: $0 RUN_DIR OUT.png [WIDTH,HEIGHT]}
out=${2:?usage: $0 RUN_DIR OUT.png [WIDTH,HEIGHT]}
size=${3:-1280,1500}
rft=${RFT:-.build/debug/rft}
chromium=${RFT_CHROMIUM:-chromium}
command -v "$chromium" >/dev/null 2>&1 || { echo "chromium not found: apt-get install chromium" >&2; exit 1; }
report=$("$rft" report "$run_dir" | sed -n 's/^report: //p')
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --window-size="$size" --screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" 2>/dev/null
echo "screenshot: $out"
