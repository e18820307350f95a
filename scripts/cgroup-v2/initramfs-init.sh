#!/bin/sh
# /init of the cgroup v2 test guest's initramfs (see build-initramfs.sh): load the 9p modules, mount
# the host's root read-only, and switch to the guest script named by rftinit= on the kernel command line.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
fail() { echo "rft-initramfs: $*" >&2; echo o > /proc/sysrq-trigger; sleep 10; }
while read -r m; do insmod "/modules/$m" || fail "insmod $m failed"; done < /modules/order
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose host /newroot || fail "cannot mount the host root over 9p"
[ -x "/newroot$rftinit" ] || fail "guest script '$rftinit' is not executable on the host root"
for d in dev proc sys; do mount --move /$d /newroot/$d; done
exec switch_root /newroot "$rftinit"
