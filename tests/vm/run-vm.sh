#!/bin/bash
# run-vm.sh [--systemd] TOPOLOGY_FILE TEST_SCRIPT [ARGS...]
#
# Boot a throwaway QEMU/TCG VM with the NUMA topology described by TOPOLOGY_FILE,
# run TEST_SCRIPT (a host path) as root inside a chroot of the host's root file
# system (mounted read-only over 9p) with cgroup2 mounted at /sys/fs/cgroup, print
# its output and exit with its exit status.
# --systemd (or VM_BOOT=systemd in the topology file): the host root is the lower
# layer of a tmpfs overlay, systemd is PID 1 and runs TEST_SCRIPT as a unit with
# dbus, logind, machined and libvirtd at hand (systemd-root.sh, README.md).
#
# Inside the VM:   cwd = the project directory (the parent of tests/vm/ of this script,
#                  or $CGPLACE_PROJECT), CGPLACE = $CGPLACE_BIN or PROJECT/$B/cgplace,
#                  RESULTS = a writable directory shared with the host,
#                  VM_TOPO = the topology's name, VM_EXPECT_* from the topology file,
#                  VM_BOOT = initramfs or systemd,
#                  /tmp and /run are tmpfs.
# Environment:     CGPLACE_VM_CACHE (default ~/.cache/cgplace-vm), CGPLACE_VM_TIMEOUT
#                  (seconds, default 180), CGPLACE_VM_KEEP=1 keeps the result dir,
#                  CGPLACE_VM_RESULTS=DIR uses DIR as the result share (kept),
#                  CGPLACE_VM_ACCEL (default tcg,thread=single; e.g. tcg or kvm),
#                  CGPLACE_VM_VERBOSE=1 streams the serial console, B (build dir, default build),
#                  CGPLACE_VM_LIBVIRT_CAPS=0: no cached libvirt QEMU capabilities (--systemd).
# Exit status:     the test's, or 124 on timeout, 125 if the VM could not run the test.
set -u
ME=run-vm
die() { echo "$ME: error: $*" >&2; exit 125; }

boot=
[ "${1:-}" = --systemd ] && { boot=systemd; shift; }
[ $# -ge 2 ] || { echo "usage: $0 [--systemd] TOPOLOGY_FILE TEST_SCRIPT [ARGS...]" >&2; exit 2; }
TOPO=$1; SCRIPT=$2; shift 2
[ -r "$TOPO" ] || die "cannot read topology file $TOPO"
[ -r "$SCRIPT" ] || die "cannot read test script $SCRIPT"

VMDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT=${CGPLACE_PROJECT:-$(cd "$VMDIR/../.." && pwd -P)}
BDIR=${B:-build}
case $BDIR in /*) ;; *) BDIR=$PROJECT/$BDIR ;; esac
CGPLACE_BIN=${CGPLACE_BIN:-$BDIR/cgplace}
SCRIPT=$(cd "$(dirname "$SCRIPT")" && pwd -P)/$(basename "$SCRIPT")
CACHE=${CGPLACE_VM_CACHE:-$HOME/.cache/cgplace-vm}
TIMEOUT=${CGPLACE_VM_TIMEOUT:-180}
QEMU=${QEMU:-qemu-system-x86_64}

command -v "$QEMU" >/dev/null 2>&1 || die "$QEMU not found (install qemu-system-x86, or scripts/deps.sh vm)"
command -v busybox >/dev/null 2>&1 || die "busybox not found (install busybox-static)"
command -v cpio >/dev/null 2>&1 || die "cpio not found"
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"

# --- topology -----------------------------------------------------------------
VM_NAME=$(basename "$TOPO" .topo)
VM_MACHINE=q35
VM_ACCEL=${CGPLACE_VM_ACCEL:-tcg,thread=single}
VM_SMP=2
VM_MEM=256M
VM_QEMU_ARGS=()
VM_APPEND=
VM_BOOT=initramfs
# shellcheck disable=SC1090
. "$TOPO" || die "error in topology file $TOPO"
VM_BOOT=${boot:-$VM_BOOT}
case $VM_BOOT in initramfs|systemd) ;; *) die "VM_BOOT=$VM_BOOT in $TOPO: initramfs or systemd" ;; esac

# --- kernel (cached: vmlinuz + the few modules the initramfs needs) ---------------
resolve_kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1
}
apt_update() {
    echo "$ME: refreshing the package lists (apt-get update)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >&2 || true
    elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq >&2 || true; fi
}
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"
MODS_SYSTEMD="overlay"   # loaded by /init only with --systemd
# the cached kernel lacks a module it now needs (an older cache): fetch it again
mods_missing() {
    local m
    for m in $MODS $MODS_SYSTEMD; do
        [ -e "$1/modules/$m.ko" ] || grep -qx "$m" "$1/builtin" 2>/dev/null || return 0
    done
    return 1
}
exec 9>"$CACHE/.lock"
flock 9 || die "cannot lock $CACHE"
kdir=
if [ -n "${CGPLACE_VM_KERNEL_PKG:-}" ]; then
    kpkg=$CGPLACE_VM_KERNEL_PKG
else
    # reuse whatever kernel is cached; resolve the package only on first use
    kdir=$(ls -d "$CACHE"/kernel-*/ 2>/dev/null | sort -V | tail -n1)
    kdir=${kdir%/}
    if [ -z "$kdir" ] || [ ! -s "$kdir/vmlinuz" ] || mods_missing "$kdir"; then
        kdir=
        kpkg=$(resolve_kernel_pkg)
        if [ -z "$kpkg" ]; then
            # empty or stale package lists on a fresh machine
            apt_update
            kpkg=$(resolve_kernel_pkg)
        fi
        [ -n "$kpkg" ] || die "cannot resolve the kernel package behind linux-image-amd64 (apt-get update failed?)"
    fi
fi
if [ -z "$kdir" ]; then
    kver=${kpkg#linux-image-}
    kdir=$CACHE/kernel-$kver
fi
if [ ! -s "$kdir/vmlinuz" ] || mods_missing "$kdir"; then
    kver=${kdir##*/kernel-}
    echo "$ME: fetching linux-image-$kver into $CACHE (once)" >&2
    tmp=$(mktemp -d "$CACHE/dl.XXXXXX") || die "mktemp"
    if ! ( cd "$tmp" && apt-get download "linux-image-$kver" >&2 ); then
        # the mirror moved on (a point release replaced the kernel): refresh, re-resolve
        apt_update
        if [ -z "${CGPLACE_VM_KERNEL_PKG:-}" ]; then
            kpkg=$(resolve_kernel_pkg); kver=${kpkg#linux-image-}; kdir=$CACHE/kernel-$kver
        fi
        ( cd "$tmp" && apt-get download "linux-image-$kver" >&2 ) || { rm -rf "$tmp"; die "apt-get download linux-image-$kver failed"; }
    fi
    dpkg -x "$tmp"/linux-image-*.deb "$tmp/x" || { rm -rf "$tmp"; die "dpkg -x failed"; }
    mkdir -p "$tmp/k/modules"
    : > "$tmp/k/builtin"
    cp "$tmp/x/boot/vmlinuz-$kver" "$tmp/k/vmlinuz" || { rm -rf "$tmp"; die "no vmlinuz-$kver in the package"; }
    for m in $MODS $MODS_SYSTEMD; do
        f=$(find "$tmp/x/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n1)
        if [ -z "$f" ]; then
            # built into this kernel: nothing to load
            grep -q "/$m.ko\$" "$tmp/x/lib/modules/$kver/modules.builtin" 2>/dev/null && { echo "$m" >> "$tmp/k/builtin"; continue; }
            rm -rf "$tmp"; die "module $m not found in linux-image-$kver"
        fi
        case $f in
            *.xz) xz -dc "$f" > "$tmp/k/modules/$m.ko" ;;
            *.zst) zstd -qdc "$f" > "$tmp/k/modules/$m.ko" ;;
            *.gz) gzip -dc "$f" > "$tmp/k/modules/$m.ko" ;;
            *) cp "$f" "$tmp/k/modules/$m.ko" ;;
        esac || { rm -rf "$tmp"; die "cannot decompress $f"; }
    done
    rm -rf "$kdir" && mv "$tmp/k" "$kdir" && rm -rf "$tmp" || die "cannot populate $kdir"
fi

# --- initramfs (rebuilt when busybox, init or the modules change) -----------------
BUSYBOX=$(command -v busybox)
ihash=$( { sha256sum "$BUSYBOX" "$VMDIR/init.sh"; for m in $MODS $MODS_SYSTEMD; do [ -e "$kdir/modules/$m.ko" ] && sha256sum "$kdir/modules/$m.ko"; done; } \
         | awk '{print $1}' | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$ihash.cpio.gz
if [ ! -s "$INITRD" ]; then
    echo "$ME: building initramfs $INITRD" >&2
    tmp=$(mktemp -d "$CACHE/ir.XXXXXX") || die "mktemp"
    mkdir -p "$tmp"/{bin,sbin,proc,sys,dev,newroot,modules,etc,tmp}
    cp "$BUSYBOX" "$tmp/bin/busybox"
    file -L "$tmp/bin/busybox" 2>/dev/null | grep -q dynamic && { rm -rf "$tmp"; die "$BUSYBOX is not static (install busybox-static)"; }
    for a in sh mount umount mkdir insmod poweroff chroot cat echo sleep ls dmesg cp chmod switch_root; do ln -s busybox "$tmp/bin/$a"; done
    cp "$VMDIR/init.sh" "$tmp/init" && chmod 755 "$tmp/init"
    : > "$tmp/modules/order"
    : > "$tmp/modules/order.systemd"
    for m in $MODS; do
        [ -e "$kdir/modules/$m.ko" ] && cp "$kdir/modules/$m.ko" "$tmp/modules/" && echo "$m" >> "$tmp/modules/order"
    done
    for m in $MODS_SYSTEMD; do
        [ -e "$kdir/modules/$m.ko" ] && cp "$kdir/modules/$m.ko" "$tmp/modules/" && echo "$m" >> "$tmp/modules/order.systemd"
    done
    ( cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 ) > "$INITRD.tmp" \
        && mv "$INITRD.tmp" "$INITRD" || { rm -rf "$tmp" "$INITRD.tmp"; die "cannot build initramfs"; }
    rm -rf "$tmp"
    # drop stale images
    for f in "$CACHE"/initramfs-*.cpio.gz; do [ "$f" = "$INITRD" ] || rm -f "$f"; done
fi
exec 9>&-

# --- the job ---------------------------------------------------------------------
if [ -n "${CGPLACE_VM_RESULTS:-}" ]; then
    RES=$CGPLACE_VM_RESULTS; mkdir -p "$RES" || die "cannot create $RES"
    rm -rf "$RES/.job.sh" "$RES/.output" "$RES/.status" "$RES/.console" "$RES/.sdroot" "$RES/.libvirt-caps"
    KEEP=1
else
    RES=$(mktemp -d "${TMPDIR:-/tmp}/cgplace-vm.XXXXXX") || die "mktemp"
    KEEP=${CGPLACE_VM_KEEP:-0}
fi
chmod 777 "$RES"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$RES"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { printf '%q' "$1"; }
{
    echo "# generated by run-vm.sh"
    echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    echo "export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TMPDIR=/tmp"
    echo "export CGPLACE=$(q "$CGPLACE_BIN") RESULTS=/run/vm-results PROJECT=$(q "$PROJECT") B=$(q "$BDIR")"
    echo "export VM_TOPO=$(q "$VM_NAME") VM_SMP=$(q "$VM_SMP") VM_MEM=$(q "$VM_MEM") VM_BOOT=$(q "$VM_BOOT")"
    for v in $(compgen -v VM_EXPECT_) $(compgen -v CGPLACE_TEST_); do echo "export $v=$(q "${!v}")"; done
    echo "cd $(q "$PROJECT") || exit 125"
    # /tmp and /run are fresh tmpfs in the VM: a script from there runs from a copy
    # (the project itself is always visible at its own path, see proj_share)
    case $SCRIPT in
        "$PROJECT"/*) GSCRIPT=$SCRIPT ;;
        /tmp/*|/run/*) cp -p "$SCRIPT" "$RES/.script"; SCRIPT=$RES/.script; GSCRIPT=/run/vm-results/.script ;;
        *) GSCRIPT=$SCRIPT ;;
    esac
    if [ -x "$SCRIPT" ]; then printf 'exec %q' "$GSCRIPT"
    elif [ "${SCRIPT%.py}" != "$SCRIPT" ]; then   # python3, with vmtest and vmlibvirt at hand
        printf 'export PYTHONPATH=%q PYTHONDONTWRITEBYTECODE=1\nexec python3 %q' "$VMDIR" "$GSCRIPT"
    else printf 'exec /bin/sh %q' "$GSCRIPT"; fi
    for a in "$@"; do printf ' %q' "$a"; done
    echo
} > "$RES/.job.sh"
boot_append= LVCAPS=
if [ "$VM_BOOT" = systemd ]; then
    LVCAPS=$CACHE/libvirt-qemu-caps
    [ "${CGPLACE_VM_LIBVIRT_CAPS:-1}" = 1 ] || LVCAPS=
    "$VMDIR/systemd-root.sh" "$RES/.sdroot" ${LVCAPS:+"$LVCAPS"} || die "cannot prepare the systemd overlay tree"
    boot_append="cgp_boot=systemd"
fi

# The VM hides the host's /tmp and /run under fresh tmpfs: a checkout there
# (a CI clone, say) is shared on its own and mounted back at the same path.
proj_share=() proj_append=
case $PROJECT in
    /tmp|/tmp/*|/run|/run/*)
        case $PROJECT in *[[:space:],]*) die "project path must not contain spaces or commas: $PROJECT" ;; esac
        proj_share=( -virtfs "local,path=$PROJECT,mount_tag=project,security_model=none,readonly=on,multidevs=remap" )
        proj_append="cgp_project=$PROJECT" ;;
esac

CONSOLE=$RES/.console
t0=$(date +%s.%N)
# shellcheck disable=SC2054  # the commas are QEMU option syntax
qemu_cmd=( timeout --kill-after=10 "$TIMEOUT" "$QEMU" -machine "$VM_MACHINE" -accel "$VM_ACCEL" -cpu max
           -m "$VM_MEM" -smp "$VM_SMP" "${VM_QEMU_ARGS[@]}"
           -nographic -no-reboot -nodefaults -serial stdio -monitor none
           -kernel "$kdir/vmlinuz" -initrd "$INITRD"
           -append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic mitigations=off tsc=reliable init_on_alloc=0 8250.nr_uarts=1 $boot_append $proj_append $VM_APPEND"
           -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
           -virtfs local,path="$RES",mount_tag=results,security_model=none,multidevs=remap
           "${proj_share[@]}" )
[ "${CGPLACE_VM_VERBOSE:-0}" = 1 ] && echo "$ME: ${qemu_cmd[*]}" >&2
if [ "${CGPLACE_VM_VERBOSE:-0}" = 1 ]; then
    "${qemu_cmd[@]}" < /dev/null 2>&1 | tee "$CONSOLE" >&2
    qrc=${PIPESTATUS[0]}
else
    "${qemu_cmd[@]}" < /dev/null > "$CONSOLE" 2>&1
    qrc=$?
fi
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')

[ -f "$RES/.output" ] && cat "$RES/.output"
# libvirt's QEMU capabilities, probed in this boot: for the next one
if [ "$VM_BOOT" = systemd ] && [ -n "$LVCAPS" ] && ls "$RES"/.libvirt-caps/*.xml > /dev/null 2>&1; then
    mkdir -p "$LVCAPS" && for f in "$RES"/.libvirt-caps/*.xml; do
        cp "$f" "$LVCAPS/.${f##*/}.tmp" && mv "$LVCAPS/.${f##*/}.tmp" "$LVCAPS/${f##*/}"
    done
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
    echo "$ME: error: VM '$VM_NAME' timed out after ${TIMEOUT}s (CGPLACE_VM_TIMEOUT); console tail:" >&2
    tail -n 30 "$CONSOLE" | sed 's/^/  | /' >&2
    exit 124
fi
if [ ! -s "$RES/.status" ]; then
    echo "$ME: error: VM '$VM_NAME' did not run the test (qemu exit $qrc, ${secs}s); console tail:" >&2
    tail -n 40 "$CONSOLE" | sed 's/^/  | /' >&2
    exit 125
fi
rc=$(cat "$RES/.status")
echo "$ME: VM '$VM_NAME' finished in ${secs}s, test exit status $rc" >&2
case $rc in ''|*[!0-9]*) exit 125 ;; esac
exit "$rc"
