# tests/vm/vm.mk - real-kernel VM tests (QEMU/TCG, cgroup v2, NUMA topologies).
# Included by the top Makefile.  See tests/vm/README.md.
#   make check-vm                  boot every topology, run its tests, write $(B)/results/vm
#   make check-vm VM_TOPOS=asym    only some topologies (asym-systemd: the systemd mode, libvirt)
#   CGPLACE_SKIP_VM=1 make check   skip (loudly; counted as skipped)
B ?= build
CHECK_LAYERS += vm
VM_TOPOS ?=
VM_HELPERS := $(B)/vm/vmhelper

$(B)/vm/vmhelper: tests/vm/helpers/vmhelper.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) -O2 -g -Wall -Wextra -pthread -o $@ $<

.PHONY: check-vm vm-helpers
vm-helpers: $(VM_HELPERS)

# the test build (CGP_TESTING=1: fault points) for the rollback checks of the backends
check-vm: all $(VM_HELPERS)
	@$(MAKE) --no-print-directory B=$(B)/test CGP_TESTING=1 all
	@CGPLACE_TEST_FAULTBIN=$(abspath $(B))/test/cgplace tests/vm/check.sh $(B) $(VM_TOPOS)
