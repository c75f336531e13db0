# Runtime benchmark of issue 8 (not a test layer: not in CHECK_LAYERS). One boot of the test
# VM on bench/runtime/bench.topo (room for a 256 MiB guest on a memory-only node): `cgplace
# vcpupin` against `taskset -p -c` and a shell write of cpuset.cpus (wall time, strace -c), and
# `cgplace numatune` of a 256 MiB guest against numactl's `migratepages`.
#   make bench-runtime [BENCH_RUNTIME_ARGS="--runs 15 --mruns 3"]
# Rewrites the <!-- BEGIN runtime --> section of docs/PERFORMANCE.md; raw results in
# $(B)/bench-runtime/vm-results/bench-runtime.json. Needs qemu-system-x86, strace, numactl.
BENCH_RUNTIME_ARGS ?=

.PHONY: bench-runtime
bench-runtime: $(BIN)
	$(Q)scripts/deps.sh vm
	$(Q)scripts/deps.sh bench
	$(Q)bench/runtime/run.py --build $(B) --out docs/PERFORMANCE.md $(BENCH_RUNTIME_ARGS)
