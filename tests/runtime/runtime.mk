# tests/runtime/runtime.mk - the runtime verbs (vcpuinfo, vcpupin,
# emulatorpin, iothreadpin, numatune) on a fake /proc and cgroup tree, with
# the fake libvirt.so.0 of tests/cgctl for a libvirt guest.
#   make check-runtime      run tests/runtime/run.py
#   make runtime-update     rewrite tests/runtime/expected/ (review every diff)
B ?= build
CHECK_LAYERS += runtime

.PHONY: check-runtime runtime-update
check-runtime: $(BIN) $(CGCTL_FAKEVIRT)
	@mkdir -p $(B)/results
	$(Q)python3 tests/runtime/run.py $(BIN) $(abspath $(CGCTL_FAKEVIRT_DIR)) $(B)/runtime $(B)/results/runtime

runtime-update: $(BIN) $(CGCTL_FAKEVIRT)
	$(Q)python3 tests/runtime/run.py --update $(BIN) $(abspath $(CGCTL_FAKEVIRT_DIR)) $(B)/runtime $(B)/results/runtime
