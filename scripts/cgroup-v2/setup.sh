#!/usr/bin/env bash
# What the cgroup v2 guest needs on the host: QEMU, a Debian kernel with its 9p modules, busybox-static.
#   setup.sh --install   install what is missing (as root; waits for another apt/dpkg to finish)
#   setup.sh --check     exit 1 with the apt-get line to run when something is missing
#   setup.sh --kernel    print the newest installed kernel version that has the 9p modules
set -euo pipefail
pkgs="qemu-system-x86 linux-image-amd64 busybox-static"
missing() {
  local m=""
  for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || m="$m $p"; done
  echo "$m"
}
kernel() {
  local k best=""
  for v in /boot/vmlinuz-*; do
    k=${v#/boot/vmlinuz-}
    [ -r "$v" ] && [ -f "/lib/modules/$k/kernel/fs/9p/9p.ko" ] || continue
    if [ -z "$best" ] || dpkg --compare-versions "$k" gt "$best"; then best=$k; fi
  done
  [ -n "$best" ] || { echo "setup: no readable /boot/vmlinuz-* with 9p modules (install linux-image-amd64)" >&2; return 1; }
  echo "$best"
}
case ${1:-} in
  --install)
    m=$(missing)
    [ -z "$m" ] && exit 0
    [ "$(id -u)" = 0 ] || { echo "setup: missing:$m; run: sudo apt-get install -y --no-install-recommends$m" >&2; exit 1; }
    echo "setup: installing$m"
    # Another apt run (unattended upgrades, a parallel job) holds the dpkg lock: wait for it.
    export DEBIAN_FRONTEND=noninteractive
    opts=(-o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # shellcheck disable=SC2086
    apt-get "${opts[@]}" install $m >/dev/null
    ;;
  --check)
    m=$(missing)
    if [ -n "$m" ]; then
      echo "setup: missing:$m; run: sudo scripts/cgroup-v2/setup.sh --install" >&2
      echo "       (or: sudo apt-get install -y --no-install-recommends$m)" >&2
      exit 1
    fi
    kernel >/dev/null
    ;;
  --kernel) kernel ;;
  *) echo "usage: setup.sh --install | --check | --kernel" >&2; exit 2 ;;
esac
