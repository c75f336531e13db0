#!/bin/sh
# /init of the cgplace test VM (busybox-static).  Built into the initramfs by run-vm.sh.
# Mounts the host root read-only (9p tag hostroot) at /newroot, the result share
# (9p tag results) at /newroot/run/vm-results, cgroup2 at /newroot/sys/fs/cgroup,
# runs /run/vm-results/.job.sh in a chroot, stores its output and exit status
# in the result share and powers off.
# With cgp_boot=systemd on the kernel command line (run-vm.sh --systemd) the host
# root is the lower layer of an overlay on tmpfs instead; /init copies the tree
# run-vm.sh prepared in the result share (.sdroot: the test unit, default.target,
# masks) into it and switches to systemd, which runs the job as a unit.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "vm-init: $*" > /dev/console; sleep 1; poweroff -f; }

boot=initramfs
for arg in $(cat /proc/cmdline); do
    case $arg in cgp_boot=*) boot=${arg#cgp_boot=} ;; esac
done

for m in $(cat /modules/order); do
    insmod "/modules/$m.ko" || fail "insmod $m failed"
done

P9="trans=virtio,version=9p2000.L,msize=512000"
R=/newroot
if [ "$boot" = systemd ]; then
    for m in $(cat /modules/order.systemd); do
        insmod "/modules/$m.ko" || fail "insmod $m failed"
    done
    mkdir -p /lower /ovl
    mount -t 9p -o "$P9,ro,cache=loose" hostroot /lower || fail "cannot mount hostroot"
    mount -t tmpfs -o mode=755 tmpfs /ovl || fail "mount tmpfs for the overlay"
    mkdir -p /ovl/upper /ovl/work
    mount -t overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work overlay $R \
        || fail "cannot mount the overlay on hostroot"
    # systemd-tmpfiles would walk the host's trees over 9p: give it empty ones
    for d in tmp var/tmp var/log var/cache; do
        mount -t tmpfs -o mode=1777 tmpfs "$R/$d" || fail "mount /$d"
    done
    chmod 755 $R/var/log $R/var/cache
else
    mount -t 9p -o "$P9,ro,cache=loose" hostroot $R || fail "cannot mount hostroot"
    mount -t proc proc $R/proc || fail "mount proc"
    mount -t sysfs sysfs $R/sys || fail "mount sysfs"
    mount -t cgroup2 -o nsdelegate cgroup2 $R/sys/fs/cgroup || fail "mount cgroup2"
    mount -t devtmpfs devtmpfs $R/dev || fail "mount devtmpfs"
    mkdir -p $R/dev/pts $R/dev/shm
    mount -t devpts devpts $R/dev/pts
    mount -t tmpfs tmpfs $R/dev/shm
    mount -t tmpfs -o mode=1777 tmpfs $R/tmp || fail "mount /tmp"
fi
mount -t tmpfs -o mode=755 tmpfs $R/run || fail "mount /run"
mkdir -p $R/run/vm-results $R/run/lock
mount -t 9p -o "$P9,cache=none" results $R/run/vm-results || fail "cannot mount results"
# a project checkout under the host's /tmp or /run comes back at its own path
for arg in $(cat /proc/cmdline); do
    case $arg in
        cgp_project=*)
            p=${arg#cgp_project=}
            mkdir -p "$R$p" && mount -t 9p -o "$P9,ro,cache=loose" project "$R$p" || fail "cannot mount project $p" ;;
    esac
done

if [ "$boot" = systemd ]; then
    cp -a $R/run/vm-results/.sdroot/. $R/ || fail "cannot copy .sdroot into the overlay"
    umount /proc /sys 2>/dev/null
    exec switch_root $R /lib/systemd/systemd
fi

# run the job; output to the result share, exit status last
chroot $R /bin/sh -c '/bin/sh /run/vm-results/.job.sh > /run/vm-results/.output 2>&1; echo $? > /run/vm-results/.status.tmp; mv /run/vm-results/.status.tmp /run/vm-results/.status'
sync
umount $R/run/vm-results 2>/dev/null
poweroff -f
