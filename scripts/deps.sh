#!/bin/sh
# Install the Debian 12 packages cgplace needs to build, test and demo.
# Idempotent: does nothing when every package is already installed.
# Usage: scripts/deps.sh [build|check|vm|bench|selinux|all]   (default: all)
set -eu
what=${1:-all}
build="gcc libc6-dev make pkg-config libxml2-dev libxml2-utils libjson-c-dev libseccomp-dev libnuma-dev libsystemd-dev libcap-ng-dev"
check="python3 python3-prometheus-client libcriterion-dev clang libclang-rt-14-dev hwloc libvirt0 util-linux bzip2 gzip xz-utils strace"
vm="qemu-system-x86 busybox-static cpio numactl cgroup-tools apt dpkg kmod"
# the VM test bed's systemd mode (tests/vm/run-vm.sh --systemd): systemd as PID 1
# with dbus, logind, machined and libvirtd running nested TCG domains.  All of it
# runs only inside the VM (it boots the host's root over 9p); the host's own
# services are not started, see policy-rc.d below.
vmsd="systemd systemd-container dbus libvirt-daemon-system libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients dmidecode"
bench="strace valgrind time hwloc util-linux"
# the SELinux module (selinux/, make check-selinux): the refpolicy headers and
# build Makefile, semodule_link/semodule_expand, sesearch, setfiles and
# matchpathcon; the base policy itself is only downloaded (apt-get download),
# never installed, so this host's security setup is not touched
selinux="selinux-policy-dev semodule-utils setools policycoreutils selinux-utils checkpolicy bzip2"
case "$what" in
    build) pkgs="$build" ;;
    check) pkgs="$build $check $vm $vmsd $selinux" ;;
    vm) pkgs="$build $vm $vmsd" ;;
    bench) pkgs="$build $check $vm $bench" ;;
    selinux) pkgs="$build $selinux" ;;
    all) pkgs="$build $check $vm $vmsd $bench $selinux" ;;
    *) echo "usage: $0 [build|check|vm|bench|selinux|all]" >&2; exit 2 ;;
esac
missing=""
# make install's completion dir (bash-completion.pc) and the Debian package
# test (check-pkg: dpkg-buildpackage, debhelper, lintian), with check and all
case "$what" in check | all) pkgs="$pkgs bash-completion dpkg-dev debhelper devscripts lintian fakeroot" ;; esac
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing packages:$missing (run as root to install)" >&2; exit 1; fi
else SUDO=""; fi
echo "deps: installing$missing" >&2
# No package may start a service on this host (libvirtd, virtlogd, dbus ...: they
# are for the test VMs): a policy-rc.d that says 101 ("action forbidden") for the
# duration of the install, honoured by invoke-rc.d and deb-systemd-invoke.  One
# that is already there is left alone; the one written here is removed after.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# written by cgplace scripts/deps.sh for the duration of an install\nexit 101\n' \
        | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    trap '$SUDO rm -f "$POLICY"' EXIT
    trap 'exit 130' INT TERM
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
