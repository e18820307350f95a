#!/usr/bin/env bash
# Writes the uncompressed ELF kernel (vmlinux) inside a Debian bzImage, so that QEMU boots it
# directly through its PVH entry: the xz decompressor alone takes half a minute under TCG.
# Usage: extract-vmlinux.sh /boot/vmlinuz-VERSION OUTPUT   (idempotent)
set -euo pipefail
in=${1:?bzImage}; out=${2:?output}
[ -f "$out" ] && [ "$out" -nt "$in" ] && exit 0
# The payload is the first xz stream (magic FD 37 7A 58 5A 00); xz complains about what follows it.
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$in" | head -1 | cut -d: -f1)
[ -n "$off" ] || { echo "extract-vmlinux: no xz payload in $in" >&2; exit 1; }
tail -c +$((off + 1)) "$in" | xz -dc 2>/dev/null > "$out.tmp" || true
if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" != '177ELF' ]; then
  rm -f "$out.tmp"; echo "extract-vmlinux: $in did not decompress to an ELF kernel" >&2; exit 1
fi
mv "$out.tmp" "$out"
