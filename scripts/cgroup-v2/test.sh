#!/usr/bin/env bash
# `make test-cgroup-v2`: the sandbox and grader-runtime suites plus the rft CLI acceptance checks
# (suite.py) in a cgroup-v2-only guest, in two phases:
#   root  as root, in the root cgroup;
#   user  as uid 1000 in a delegated cgroup (as `systemd-run --user --scope -p Delegate=yes` gives one);
# and, on request only, root-scope: as root in a login session's scope (a non-root cgroup, as under systemd).
# Prints a RESULT line per test or check and a summary per phase; exits 1 if any phase did not pass.
# Logs: .build/cgroup-v2/last/<phase>/ (output.log, logs/<phase>/*.log, dmesg.log).
# Environment: RFT_CG2_PHASES="root user" (which phases, in order), RFT_CG2_PARALLEL=0|1 (default: 1 with
# 8 GB of memory available), RFT_CG2_TIMEOUT (seconds per phase, default 1800: a backstop; a phase takes about 10-15 minutes on a quiet 2-core host), RFT_CG2_FILTERS (suite.py filters).
set -uo pipefail
# All in a function: bash reads the whole of it before running, so editing this file mid-run is safe.
main() {
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
if [ "$(id -u)" = 0 ]; then "$here/setup.sh" --install || exit 1; else "$here/setup.sh" --check || exit 1; fi
for f in .build/debug/rft .build/debug/rftPackageTests.xctest; do
  [ -x "$f" ] || { echo "test-cgroup-v2: $f is missing (run: swift build --build-tests)" >&2; exit 1; }
done
phases=${RFT_CG2_PHASES:-root user}
timeout=${RFT_CG2_TIMEOUT:-1800}
# Side by side by default: much of a phase is waiting on deadlines, so two guests overlap well even on
# 2 CPUs (each guest has 3 GB).
parallel=${RFT_CG2_PARALLEL:-$([ "$(awk '/MemAvailable/ {print int($2 / 1048576)}' /proc/meminfo)" -ge 8 ] && echo 1 || echo 0)}
out=$repo/.build/cgroup-v2/last
rm -rf "$out"; mkdir -p "$out"

# Builds the initramfs once, before phases may start side by side.
"$here/build-initramfs.sh" "$("$here/setup.sh" --kernel)" "$repo/.build/cgroup-v2/initramfs-$("$here/setup.sh" --kernel).cpio.gz"

phase() {
  local p=$1 opts=()
  case $p in
    root) ;;
    user) opts=(--user) ;;
    root-scope) opts=(--cgroup=user.slice/user-0.slice/session-1.scope) ;;
    *) echo "test-cgroup-v2: unknown phase '$p' (root, user, root-scope)" >&2; echo "2 0" > "$out/$p.status"; return ;;
  esac
  local start=$SECONDS
  "$here/run-in-guest.sh" "${opts[@]}" --quiet --timeout="$timeout" --results="$out/$p" \
    "python3 scripts/cgroup-v2/suite.py --phase $p ${RFT_CG2_FILTERS:-}" 2>&1 | grep -a --line-buffered -E '^(RESULT|SUMMARY|phase|run-in-guest|setup|build-initramfs|extract-vmlinux|rft-initramfs|rft-guest)'
  local rc=${PIPESTATUS[0]}
  echo "$rc $((SECONDS - start))" > "$out/$p.status"
}
if [ "$parallel" = 1 ]; then
  for p in $phases; do phase "$p" & done; wait
else
  for p in $phases; do phase "$p"; done
fi

echo
echo "== test-cgroup-v2 summary (logs: $out)"
failed=0
for p in $phases; do
  read -r rc secs < "$out/$p.status"
  log=$out/$p/output.log
  pass=$(grep -ac "^RESULT $p PASS " "$log" 2>/dev/null); pass=${pass:-0}
  bad=$(grep -a "^RESULT $p " "$log" 2>/dev/null | grep -av "^RESULT $p PASS " | awk '{print $3 " " $4}')
  case $rc in
    0) verdict=PASS ;;
    124) verdict="FAIL (the phase did not finish within ${timeout}s)" ;;
    125) verdict="FAIL (the guest failed; see $out/$p/)" ;;
    *) verdict=FAIL ;;
  esac
  [ "$rc" = 0 ] || failed=1
  echo "phase $p: $verdict — $pass passed, $(printf '%s' "$bad" | grep -c .) not, ${secs}s"
  [ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/    /'
done
exit $failed
}
main "$@"
