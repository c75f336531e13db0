#!/bin/bash
# systemd-root.sh DIR [CAPS_DIR] - host side of `run-vm.sh --systemd`.
#
# Writes into DIR (in the result share) the tree the VM's /init copies over the
# tmpfs overlay of the host root before it switches to /lib/systemd/systemd:
#   etc/systemd/system/cgp-vm-test.service  the job (.job.sh) as a unit; powers off after
#   usr/local/libexec/cgp-vm-test           what it runs: the job, its output and status
#                                           into the result share
#   etc/systemd/system/cgp-vm-test.target   wants basic.target, logind, machined and the
#                                           test unit only
#   etc/systemd/system/default.target       -> cgp-vm-test.target (systemd.unit= on the
#                                           kernel command line was not honoured here)
#   etc/systemd/system/UNIT -> /dev/null    masks: the host's own services (see below)
#   etc/fstab, etc/crypttab                 empty: no mount or swap unit for the host's disks
#   etc/machine-id                          only if the host has none (else: first boot,
#                                           preset-all)
#   var/cache/libvirt/qemu/capabilities/    libvirt's QEMU capabilities from CAPS_DIR (the
#                                           run-vm.sh cache), if any: probing them costs
#                                           8-10 s under TCG; libvirt re-probes on its own
#                                           when they no longer match the binaries or kernel
# Everything is decided here, on the host, from the host's unit files: the VM
# boots the same files over 9p.
set -eu
D=$1
CAPS=${2:-}
U=$D/etc/systemd/system
mkdir -p "$U" "$D/etc"

cat > "$U/cgp-vm-test.service" <<'EOF'
# written by tests/vm/systemd-root.sh
[Unit]
Description=cgplace VM test (run-vm.sh --systemd)
After=basic.target dbus.socket systemd-logind.service systemd-machined.service
# the result share is cache=none: the host has everything once the job wrote it
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
# exec, not oneshot: the boot transaction ends when the test starts, so that
# `systemctl is-system-running` says running (or degraded) while it runs
Type=exec
ExecStart=/usr/local/libexec/cgp-vm-test
StandardInput=null
StandardOutput=journal+console
StandardError=journal+console
EOF

cat > "$U/cgp-vm-test.target" <<'EOF'
# written by tests/vm/systemd-root.sh
[Unit]
Description=cgplace VM test target
Requires=basic.target
After=basic.target
Wants=cgp-vm-test.service
# up before the test, as on a booted host: dbus, logind with user.slice, machined with
# machine.slice (systemd's own units are what a backend confines)
Wants=systemd-logind.service systemd-machined.service
AllowIsolate=yes
EOF
ln -sfn cgp-vm-test.target "$U/default.target"

mkdir -p "$D/usr/local/libexec"
cat > "$D/usr/local/libexec/cgp-vm-test" <<'EOF'
#!/bin/sh
# written by tests/vm/systemd-root.sh: runs the job of run-vm.sh, keeps libvirt's QEMU
# capabilities for the next boot (run-vm.sh caches them), exit status last
R=/run/vm-results
/bin/sh $R/.job.sh > $R/.output 2>&1
echo $? > $R/.status.tmp
if ls /var/cache/libvirt/qemu/capabilities/*.xml > /dev/null 2>&1; then
    mkdir -p $R/.libvirt-caps && cp /var/cache/libvirt/qemu/capabilities/*.xml $R/.libvirt-caps/
fi
mv $R/.status.tmp $R/.status
sync
EOF
chmod 755 "$D/usr/local/libexec/cgp-vm-test"
if [ -n "$CAPS" ] && ls "$CAPS"/*.xml > /dev/null 2>&1; then
    mkdir -p "$D/var/cache/libvirt/qemu/capabilities"
    cp "$CAPS"/*.xml "$D/var/cache/libvirt/qemu/capabilities/"
fi

# --- masks -----------------------------------------------------------------------------
# Only basic.target (sysinit, sockets, timers, paths, slices) and the test are pulled
# in, so multi-user.target's services do not start anyway; the masks also keep them
# from starting as a dependency, and they stop what basic.target would pull in and
# the VM has no use for.  What libvirt and systemd-machined need is kept.
keep() {
    case $1 in
        libvirtd.service|libvirtd*.socket|virtlogd*|virtlockd*|virtqemud*|virtproxyd*) return 0 ;;
        dbus.socket|dbus.service|machines.target|*.slice) return 0 ;;
    esac
    return 1
}
mask() {
    local u
    for u; do
        keep "$u" && continue
        [ -e "$U/$u" ] || [ -L "$U/$u" ] || ln -s /dev/null "$U/$u"
    done
}
# 1. whatever the host itself enables (/etc/systemd/system/*.wants: postgresql, gettys,
#    timesyncd, pstore, apt/man-db/e2scrub/fstrim/logrotate timers, docker ...)
for w in /etc/systemd/system/*.wants/*; do
    [ -e "$w" ] || [ -L "$w" ] && mask "${w##*/}"
done
# 2. every timer any package wants (systemd-tmpfiles-clean.timer ...): nothing periodic
for w in /etc/systemd/system/*.wants/*.timer /lib/systemd/system/*.wants/*.timer; do
    [ -e "$w" ] || [ -L "$w" ] && mask "${w##*/}"
done
# 3. sysinit work the VM does not need and that is slow over 9p, or fails without the
#    guest kernel's modules (there are none in the VM); gettys; network set-up;
#    services that would manage the host's guests, containers or databases
mask systemd-modules-load.service ldconfig.service systemd-hwdb-update.service \
     systemd-journal-catalog-update.service systemd-update-done.service \
     systemd-pstore.service systemd-timesyncd.service systemd-remount-fs.service \
     systemd-firstboot.service apparmor.service \
     getty.target getty@.service serial-getty@.service getty-static.service \
     console-getty.service container-getty@.service \
     systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
     systemd-resolved.service networking.service ifupdown-pre.service \
     NetworkManager.service NetworkManager-wait-online.service ModemManager.service \
     wpa_supplicant.service avahi-daemon.service avahi-daemon.socket cron.service \
     rsyslog.service ssh.service ssh.socket unattended-upgrades.service \
     libvirt-guests.service docker.service docker.socket containerd.service \
     postgresql.service e2scrub_reap.service
# 4. early-boot units that cost a fork+exec each under TCG and give the tests nothing:
#    module loading (the VM has no /lib/modules for its kernel), users that the host's
#    /etc/passwd already has, utmp, the random seed, the journal flush (the journal is
#    volatile, see below), debugfs/tracefs/hugetlbfs/mqueue/fuse/configfs/binfmt mounts
mask modprobe@.service kmod-static-nodes.service systemd-sysusers.service \
     systemd-update-utmp.service systemd-random-seed.service systemd-journal-flush.service \
     sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount dev-mqueue.mount \
     sys-fs-fuse-connections.mount sys-kernel-config.mount \
     proc-sys-fs-binfmt_misc.automount systemd-binfmt.service

# the journal in /run only: nothing to flush to /var/log
mkdir -p "$D/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$D/etc/systemd/journald.conf.d/cgp-vm.conf"

# --- files ------------------------------------------------------------------------------
echo "# cgplace test VM: no file system of the host's fstab" > "$D/etc/fstab"
: > "$D/etc/crypttab"
if ! grep -qE '^[0-9a-f]{32}$' /etc/machine-id 2>/dev/null; then
    tr -d '-' < /proc/sys/kernel/random/uuid > "$D/etc/machine-id"
fi
