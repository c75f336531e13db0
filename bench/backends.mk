# Backends benchmark of issue 13 (not a test layer: not in CHECK_LAYERS). One boot of the
# systemd-mode test VM (tests/vm/run-vm.sh --systemd tests/vm/topos/asym-systemd.topo):
# 20 stand-in guests placed by `cgplace apply` under the systemd backend against the cgroupfs
# backend (D-Bus round trips counted with dbus-monitor and strace), and paused libvirt domains
# placed by `cgplace apply` (libvirt's API) against a loop of virsh commands.
#   make bench-backends [BENCH_BACKENDS_ARGS="--budget 150 --runs 9 --domains 4 --lv-runs 5 --lv-budget 120"]
# Rewrites the <!-- BEGIN backends --> section of docs/PERFORMANCE.md; raw results in
# $(B)/bench-backends/vm-results/bench-backends.json. The stand-in is bench/apply's.
BENCH_BACKENDS_ARGS ?=

.PHONY: bench-backends
bench-backends: $(BIN) $(B)/bench-apply/fakeqemu
	$(Q)scripts/deps.sh vm
	$(Q)scripts/deps.sh bench
	$(Q)bench/backends/run.py --build $(B) --out docs/PERFORMANCE.md $(BENCH_BACKENDS_ARGS)
