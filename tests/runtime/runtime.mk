# tests/runtime/runtime.mk - the runtime verbs (vcpuinfo, vcpupin,
# emulatorpin, iothreadpin, numatune) on a fake /proc and cgroup tree, with
# the fake libvirt.so.0 of tests/cgctl for a libvirt guest; the Criterion
# tests of --persist (test_persist.c) on the same fixture.
#   make check-runtime      run tests/runtime/run.py
#   make runtime-update     rewrite tests/runtime/expected/ (review every diff)
B ?= build
CHECK_LAYERS += runtime

RUNTIME_UNIT := $(B)/runtime-unit/test_persist

$(RUNTIME_UNIT): tests/runtime/test_persist.c include/cgplace_policy.h $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(WFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) -lcriterion $(PKG_LIBS)

.PHONY: check-runtime runtime-update
check-runtime: $(BIN) $(CGCTL_FAKEVIRT) $(RUNTIME_UNIT)
	@mkdir -p $(B)/results
	$(Q)python3 tests/runtime/run.py $(BIN) $(abspath $(CGCTL_FAKEVIRT_DIR)) $(B)/runtime $(B)/results/runtime \
	    $(RUNTIME_UNIT)

runtime-update: $(BIN) $(CGCTL_FAKEVIRT)
	$(Q)python3 tests/runtime/run.py --update $(BIN) $(abspath $(CGCTL_FAKEVIRT_DIR)) $(B)/runtime $(B)/results/runtime
