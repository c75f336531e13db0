#!/bin/bash
# systemd-root.sh DIR - host side of `run-vm.sh --systemd`.
#
# Writes into DIR (in the result share) the tree the VM's /init copies over the
# tmpfs overlay of the host root before it switches to /lib/systemd/systemd:
#   etc/systemd/system/cgp-vm-test.service  the job (.job.sh) as a unit; powers off after
#   etc/systemd/system/cgp-vm-test.target   wants basic.target and the test unit only
#   etc/systemd/system/default.target       -> cgp-vm-test.target (systemd.unit= on the
#                                           kernel command line was not honoured here)
#   etc/systemd/system/UNIT -> /dev/null    masks: the host's own services (see below)
#   etc/fstab, etc/crypttab                 empty: no mount or swap unit for the host's disks
#   etc/machine-id                          only if the host has none (else: first boot,
#                                           preset-all)
# Everything is decided here, on the host, from the host's unit files: the VM
# boots the same files over 9p.
set -eu
D=$1
U=$D/etc/systemd/system
mkdir -p "$U" "$D/etc"

cat > "$U/cgp-vm-test.service" <<'EOF'
# written by tests/vm/systemd-root.sh
[Unit]
Description=cgplace VM test (run-vm.sh --systemd)
After=basic.target dbus.socket
# the result share is cache=none: the host has everything once the job wrote it
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
# exec, not oneshot: the boot transaction ends when the test starts, so that
# `systemctl is-system-running` says running (or degraded) while it runs
Type=exec
ExecStart=/bin/sh -c '/bin/sh /run/vm-results/.job.sh > /run/vm-results/.output 2>&1; echo $$? > /run/vm-results/.status.tmp; mv /run/vm-results/.status.tmp /run/vm-results/.status; sync'
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
AllowIsolate=yes
EOF
ln -sfn cgp-vm-test.target "$U/default.target"

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

# --- files ------------------------------------------------------------------------------
echo "# cgplace test VM: no file system of the host's fstab" > "$D/etc/fstab"
: > "$D/etc/crypttab"
if ! grep -qE '^[0-9a-f]{32}$' /etc/machine-id 2>/dev/null; then
    tr -d '-' < /proc/sys/kernel/random/uuid > "$D/etc/machine-id"
fi
