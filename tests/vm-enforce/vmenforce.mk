# tests/vm-enforce/vmenforce.mk - apply/plan/verify on a real kernel: one boot of the
# asym test VM (tests/vm/run-vm.sh) starting real nested QEMU guests (tests/vm-enforce/enforce.py).
# It runs the test build of cgplace ($(B)/test/cgplace, made with CGP_TESTING=1): its fault
# sweeps need CGPLACE_FAULT_WRITE / CGPLACE_STOP_WRITE, which the release binary does not have.
#   make check-vmenforce           CGPLACE_SKIP_VM=1 skips it (loudly, counted as skipped)
# Needs qemu-system-x86, busybox-static, cgroup-tools (cgget) on the host.
B ?= build
CHECK_LAYERS += vmenforce
VMENFORCE_TIMEOUT ?= 900

.PHONY: check-vmenforce
VMENFORCE_BIN := $(B)/test/cgplace

check-vmenforce: all
	@mkdir -p $(B)/results $(B)/vm/logs
	$(Q)$(MAKE) --no-print-directory B=$(B)/test CGP_TESTING=1 all
	$(Q)if [ "$${CGPLACE_SKIP_VM:-0}" = 1 ]; then \
	    echo "### check-vmenforce: SKIPPED because CGPLACE_SKIP_VM=1 (apply/verify untested on a real kernel)"; \
	    echo "0 0 1" > $(B)/results/vmenforce; exit 0; fi; \
	B=$(B) CGPLACE_BIN=$(abspath $(VMENFORCE_BIN)) CGPLACE_VM_TIMEOUT=$(VMENFORCE_TIMEOUT) tests/vm/run-vm.sh tests/vm/topos/asym.topo tests/vm-enforce/run.sh \
	    > $(B)/vm/logs/vmenforce.log 2>&1; rc=$$?; \
	grep -E '^(not ok|skip) - |^# ' $(B)/vm/logs/vmenforce.log; \
	res=$$(sed -n 's/^RESULT \([0-9]*\) \([0-9]*\) \([0-9]*\)$$/\1 \2 \3/p' $(B)/vm/logs/vmenforce.log | tail -n1); \
	if [ -z "$$res" ]; then echo "check-vmenforce: the VM run did not finish (exit $$rc); log: $(B)/vm/logs/vmenforce.log"; \
	    tail -n 30 $(B)/vm/logs/vmenforce.log; echo "0 1 0" > $(B)/results/vmenforce; exit 1; fi; \
	echo "$$res" > $(B)/results/vmenforce; \
	set -- $$res; echo "vmenforce: $$1 passed, $$2 failed, $$3 skipped (log: $(B)/vm/logs/vmenforce.log)"; \
	[ "$$2" -eq 0 ] && [ "$$rc" -eq 0 ]
