# tests/fuzz-procfs/fuzzprocfs.mk - libFuzzer target for the /proc readers of
# discovery and enforcement (stat, status, cgroup, numa_maps, comm, cmdline, mem of
# a fake QEMU process) and the cgroup cpuset.*.effective reader; built and run
# by the shared harness in tests/fuzz/fuzz.mk.   make check-fuzzprocfs [FUZZ_RUNS_procfs=N]
CHECK_LAYERS += fuzzprocfs
FUZZ_RUNS_procfs ?= 20000
FUZZ_SPECS += $(B)/fuzz/fuzz_procfs:tests/fuzz-procfs/corpus:8192:$(FUZZ_RUNS_procfs)

$(B)/fuzz/fuzz_procfs: tests/fuzz-procfs/fuzz_procfs.c tests/fuzz/fuzz_tree.h tests/fuzz/fuzz_check.h $(LIB_SRCS) tests/fuzz/fuzz.mk \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	$(fuzz-link)

.PHONY: check-fuzzprocfs
check-fuzzprocfs:
	$(Q)$(FUZZ_RUN) check fuzzprocfs $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_procfs:%,$(FUZZ_SPECS))
