#!/bin/sh
# Install the Debian 12 packages cgplace needs to build, test and demo.
# Idempotent: does nothing when every package is already installed.
# Usage: scripts/deps.sh [build|check|vm|bench|all]   (default: all)
set -eu
what=${1:-all}
build="gcc libc6-dev make pkg-config libxml2-dev libxml2-utils libjson-c-dev libseccomp-dev libnuma-dev libsystemd-dev"
check="python3 libcriterion-dev clang libclang-rt-14-dev hwloc libvirt0 util-linux bzip2 gzip xz-utils strace"
vm="qemu-system-x86 busybox-static cpio numactl cgroup-tools apt dpkg kmod"
bench="strace valgrind time hwloc util-linux"
case "$what" in
    build) pkgs="$build" ;;
    check) pkgs="$build $check $vm" ;;
    vm) pkgs="$build $vm" ;;
    bench) pkgs="$build $check $vm $bench" ;;
    all) pkgs="$build $check $vm $bench" ;;
    *) echo "usage: $0 [build|check|vm|bench|all]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing packages:$missing (run as root to install)" >&2; exit 1; fi
else SUDO=""; fi
echo "deps: installing$missing" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
