# tests/hostile/hostile.mk - regressions of issue 10's hostile inputs that are
# about output and bounded work (problems 4 to 7 and 9): escaped names, the
# include amplification, checked sizes, FIFOs in sysfs and cgroupfs, the lock
# wait and the ownership of policy files; golden checks on fixture trees.
#   make check-hostile
B ?= build
CHECK_LAYERS += hostile

.PHONY: check-hostile
check-hostile: $(BIN)
	@mkdir -p $(B)/results $(B)/hostile
	$(Q)python3 tests/hostile/hostile.py $(BIN) $(B)/hostile $(B)/results/hostile
