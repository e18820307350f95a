#!/bin/bash
# PID 1 of the cgroup v2 test guest (started by initramfs-init.sh, booted by run-in-guest.sh).
# The root filesystem is the host's, read-only over 9p; the writable 9p share "results" carries
# the job in (job.sh, job.env) and its outcome out (output.log, rc, dmesg.log).
# job.env sets: RFT_GUEST_CWD, RFT_GUEST_UID (empty: root), RFT_GUEST_CGROUP (the job's cgroup,
# relative to the cgroup2 root; empty: the root cgroup), RFT_GUEST_DELEGATE (1: a non-root job's
# cgroup is delegated to its uid), RFT_GUEST_TIMEOUT (seconds),
# RFT_GUEST_CONTROLLERS (what the parents enable for the job's cgroup), RFT_GUEST_QUIET.
# The job gets RFT_GUEST_RESULTS (the share's mount point; its logs/ is writable for any uid).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
R=/run/rft-results
say() { echo "rft-guest [$(cut -d" " -f1 /proc/uptime)s]: $*" > /dev/console; }
halt() { sync; echo o > /proc/sysrq-trigger; sleep 60; }
trap halt EXIT

say "started"
# A checkout under /tmp or /run (a CI clone, say) would vanish under the tmpfs mounts: keep it visible.
repo=$(cd "$(dirname "$0")/../.." && pwd)
case $repo/ in /tmp/*|/run/*) mount --bind "$repo" /mnt && keep=$repo ;; *) keep="" ;; esac
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
if [ -n "$keep" ]; then mkdir -p "$keep" && mount --move /mnt "$keep"; fi
mkdir -p /dev/pts /dev/shm "$R"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# As systemd mounts it on Debian 12 (cgroup v1 is disabled on the kernel command line).
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$R" || { say "cannot mount the results share"; exit 1; }
mkdir -p "$R/logs" && chmod 1777 "$R/logs"   # the job, even as a user, may keep logs there
ip link set lo up
hostname rft-cgroup-v2
# shellcheck disable=SC1091
. "$R/job.env"

uid=${RFT_GUEST_UID:-}
home=/tmp/home-${uid:-root}
mkdir -p "$home"
if [ -n "$uid" ]; then
  # An /etc/passwd entry for the uid (the host's /etc is read-only here), as a real user has.
  if ! getent passwd "$uid" >/dev/null; then
    { cat /etc/passwd; echo "rftuser:x:$uid:$uid:rft test user:$home:/bin/bash"; } > /run/passwd
    { cat /etc/group; echo "rftuser:x:$uid:"; } > /run/group
    mount --bind /run/passwd /etc/passwd; mount --bind /run/group /etc/group
  fi
  chown "$uid:$uid" "$home"
fi

# The job's cgroup, made as systemd makes a unit's: every ancestor enables the controllers for the
# level below; for a non-root job the cgroup is delegated the way systemd's Delegate=yes does it
# (the directory and the files the kernel lists in /sys/kernel/cgroup/delegate are chowned; the
# cgroup's own limits, e.g. memory.max, stay root's).
cg=/sys/fs/cgroup
if [ -n "${RFT_GUEST_CGROUP:-}" ]; then
  path=""
  for part in ${RFT_GUEST_CGROUP//\// }; do
    for c in $RFT_GUEST_CONTROLLERS; do echo "+$c" > "$cg$path/cgroup.subtree_control" || say "cannot enable $c in $cg$path"; done
    path="$path/$part"; mkdir -p "$cg$path"
  done
  cg=$cg$path
  if [ -n "$uid" ] && [ "${RFT_GUEST_DELEGATE:-1}" = 1 ]; then
    chown "$uid:$uid" "$cg"
    for f in $(cat /sys/kernel/cgroup/delegate 2>/dev/null || echo cgroup.procs cgroup.threads cgroup.subtree_control); do
      [ -e "$cg/$f" ] && chown "$uid:$uid" "$cg/$f"
    done
  fi
fi

[ -n "${RFT_GUEST_QUIET:-}" ] || say "kernel $(uname -r), cgroup ${cg#/sys/fs/cgroup}, controllers: $(cat "$cg/cgroup.controllers"), uid ${uid:-0}$([ -n "$uid" ] && [ "${RFT_GUEST_DELEGATE:-1}" != 1 ] && echo ' (not delegated)'), timeout ${RFT_GUEST_TIMEOUT}s"
cd "$RFT_GUEST_CWD" || { say "no directory $RFT_GUEST_CWD"; exit 1; }
run_job() {
  echo "$BASHPID" > "$cg/cgroup.procs" || { echo "rft-guest: cannot move the job into $cg" >&2; return 125; }
  if [ -n "$uid" ]; then
    exec env -i PATH="$PATH" LANG=C.UTF-8 HOME="$home" TMPDIR=/tmp RFT_GUEST_RESULTS="$R" USER="$(getent passwd "$uid" | cut -d: -f1)" \
      setpriv --reuid="$uid" --regid="$uid" --clear-groups -- timeout -k 10 "$RFT_GUEST_TIMEOUT" bash "$R/job.sh"
  fi
  exec env -i PATH="$PATH" LANG=C.UTF-8 HOME="$home" TMPDIR=/tmp RFT_GUEST_RESULTS="$R" USER=root \
    timeout -k 10 "$RFT_GUEST_TIMEOUT" bash "$R/job.sh"
}
start=$(date +%s)
run_job < /dev/null 2>&1 | tee "$R/output.log" > /dev/console
rc=${PIPESTATUS[0]}
echo "$rc" > "$R/rc"
dmesg > "$R/dmesg.log" 2>/dev/null
[ -n "${RFT_GUEST_QUIET:-}" ] || say "job exited with status $rc after $(( $(date +%s) - start ))s"
