#!/usr/bin/env bash
# Runs one shell command in a cgroup-v2-only Debian 12 guest (QEMU TCG; the host's root filesystem
# read-only over 9p, so the checkout and its .build are where they are on the host; /tmp is a tmpfs).
#
#   scripts/cgroup-v2/run-in-guest.sh [options] 'COMMAND'
#     --user[=UID]      run as UID (default 1000) in a delegated cgroup, as systemd's Delegate=yes
#                       gives one (default cgroup: user.slice/user-UID.slice/user@UID.service/app.slice/rft-test.scope)
#     --no-delegate     with --user: the cgroup stays root's (an ordinary user without delegation)
#     --cgroup=PATH     the job's cgroup below /sys/fs/cgroup (root default: the root cgroup)
#     --controllers=LIST  controllers each ancestor enables (default "cpu memory pids")
#     --timeout=SEC     the job's time limit in the guest (default 600); the VM gets 120 s more
#     --results=DIR     keep output.log, rc, dmesg.log there (default: a fresh dir under .build/cgroup-v2/runs,
#                       which keeps the 30 newest)
#     --smp=N --mem=MB  guest size (default 2 CPUs, 3072 MB)
#     --quiet           no guest banner lines
# The command runs with bash in the current directory (which must be on the root filesystem).
# Exit status: the command's; 124 if it timed out; 125 if the guest failed before reporting one.
# Example: scripts/cgroup-v2/run-in-guest.sh --user '.build/debug/rft sandbox run --memory-mb 64 -- python3 -c "x=bytearray(300<<20)"'
set -euo pipefail
# All in a function: bash reads the whole of it before running, so editing this file mid-run is safe.
main() {
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${RFT_CG2_CACHE:-$repo/.build/cgroup-v2}
uid="" delegate=1 cgroup="" controllers="cpu memory pids" timeout=600 results="" smp=2 mem=3072 quiet=""
while [ $# -gt 0 ]; do
  case $1 in
    --user) uid=1000 ;;
    --user=*) uid=${1#--user=} ;;
    --no-delegate) delegate=0 ;;
    --cgroup=*) cgroup=${1#--cgroup=} ;;
    --controllers=*) controllers=${1#--controllers=} ;;
    --timeout=*) timeout=${1#--timeout=} ;;
    --results=*) results=${1#--results=} ;;
    --smp=*) smp=${1#--smp=} ;;
    --mem=*) mem=${1#--mem=} ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "run-in-guest: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] || { echo "run-in-guest: give exactly one COMMAND string (see --help)" >&2; exit 2; }
[[ $uid =~ ^[0-9]*$ ]] || { echo "run-in-guest: --user takes a numeric uid, not '$uid'" >&2; exit 2; }
[ -n "$uid" ] && [ -z "$cgroup" ] && cgroup="user.slice/user-$uid.slice/user@$uid.service/app.slice/rft-test.scope"

"$here/setup.sh" --check
kver=$("$here/setup.sh" --kernel)
"$here/build-initramfs.sh" "$kver" "$cache/initramfs-$kver.cpio.gz"
kernel=/boot/vmlinuz-$kver
if [ -z "${RFT_CG2_BZIMAGE:-}" ] && "$here/extract-vmlinux.sh" "$kernel" "$cache/vmlinux-$kver"; then
  kernel=$cache/vmlinux-$kver   # booted through its PVH entry: no decompression under TCG
fi

if [ -z "$results" ]; then
  mkdir -p "$cache/runs"
  results=$(mktemp -d "$cache/runs/$(date +%Y%m%d-%H%M%S)-XXXX")
  # Keep the 30 newest runs.
  find "$cache/runs" -mindepth 1 -maxdepth 1 -type d | sort | head -n -30 | xargs -r rm -rf
fi
mkdir -p "$results"; results=$(cd "$results" && pwd)
chmod 755 "$results"   # a --user job reads job.sh there
rm -f "$results/rc" "$results/output.log" "$results/dmesg.log"
printf '%s\n' "$1" > "$results/job.sh"
{
  printf 'RFT_GUEST_CWD=%q\n' "$PWD"
  printf 'RFT_GUEST_UID=%q\n' "$uid"
  printf 'RFT_GUEST_CGROUP=%q\n' "$cgroup"
  printf 'RFT_GUEST_DELEGATE=%q\n' "$delegate"
  printf 'RFT_GUEST_CONTROLLERS=%q\n' "$controllers"
  printf 'RFT_GUEST_TIMEOUT=%q\n' "$timeout"
  printf 'RFT_GUEST_QUIET=%q\n' "$quiet"
} > "$results/job.env"

# cgroup_no_v1=all: only cgroup v2 exists in the guest. panic=-1 + -no-reboot: a guest panic ends QEMU.
append="console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all rftinit=$here/guest-init.sh"
set +e
timeout -k 10 $((timeout + 120)) qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu "${RFT_CG2_CPU:-max,la57=off}" -smp "$smp" -m "$mem" \
  -nodefaults -nographic -no-reboot -serial stdio -monitor none \
  -kernel "$kernel" -initrd "$cache/initramfs-$kver.cpio.gz" -append "$append" \
  -virtfs local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap \
  -virtfs local,path="$results",mount_tag=results,security_model=none,multidevs=remap \
  < /dev/null
qemu_rc=$?
set -e
if [ -f "$results/rc" ]; then
  rc=$(cat "$results/rc")
elif [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  echo "run-in-guest: the guest did not finish within $((timeout + 120)) s (killed); partial output: $results/output.log" >&2; rc=124
else
  echo "run-in-guest: the guest ended (qemu status $qemu_rc) without reporting the job's status; see the console above" >&2; rc=125
fi
[ -n "$quiet" ] || echo "run-in-guest: status $rc; output: $results/output.log" >&2
exit "$rc"
}
main "$@"
