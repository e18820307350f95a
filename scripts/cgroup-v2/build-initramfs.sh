#!/usr/bin/env bash
# Builds the tiny initramfs that boots the cgroup v2 test guest: busybox-static plus the virtio and
# 9p modules of the installed Debian kernel. Its /init mounts the host's root (shared read-only over
# 9p by boot.sh) and hands over to the guest script named on the kernel command line.
# Usage: build-initramfs.sh KERNEL_VERSION OUTPUT.cpio.gz   (idempotent: rebuilds only when inputs change)
set -euo pipefail
kver=${1:?kernel version}; out=${2:?output path}
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build-initramfs: $busybox is missing or not static (apt-get install busybox-static)" >&2; exit 1
fi
modules=$(for m in virtio_pci 9pnet_virtio 9p; do modprobe -S "$kver" --show-depends "$m"; done \
          | awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
[ -n "$modules" ] || { echo "build-initramfs: no 9p/virtio modules for kernel $kver" >&2; exit 1; }

# Rebuild only when the init, busybox or the module files change.
stamp=$( { cat "$here/initramfs-init.sh"; sha256sum "$busybox" $modules; } | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then exit 0; fi

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$work/bin/busybox"
ln -s busybox "$work/bin/sh"
cp "$here/initramfs-init.sh" "$work/init"; chmod 755 "$work/init"
: > "$work/modules/order"
for m in $modules; do cp "$m" "$work/modules/"; basename "$m" >> "$work/modules/order"; done
mkdir -p "$(dirname "$out")"
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"; echo "$stamp" > "$out.stamp"
echo "build-initramfs: wrote $out ($(du -k "$out" | cut -f1) KiB, modules: $(tr '\n' ' ' < "$work/modules/order"))"
