# tests/fuzz-qmp/fuzzqmp.mk - libFuzzer targets for the QMP session parser
# (parsers/qmp.c) and the QEMU command line parser (parsers/cmdline.c); built
# and run by the shared harness in tests/fuzz/fuzz.mk.
#   make check-fuzzqmp [FUZZ_RUNS_qmp=N] [FUZZ_RUNS_cmdline=N]
CHECK_LAYERS += fuzzqmp
FUZZ_RUNS_qmp     ?= 400000
FUZZ_RUNS_cmdline ?= 500000
FUZZ_SPECS += $(B)/fuzz/fuzz_qmp:tests/fuzz-qmp/corpus-qmp:8192:$(FUZZ_RUNS_qmp) \
              $(B)/fuzz/fuzz_cmdline:tests/fuzz-qmp/corpus-cmdline:8192:$(FUZZ_RUNS_cmdline)

$(B)/fuzz/fuzz_qmp: tests/fuzz-qmp/fuzz_qmp.c parsers/qmp.c parsers/qmp.h tests/fuzz/fuzz.mk
	$(fuzz-link)

$(B)/fuzz/fuzz_cmdline: tests/fuzz-qmp/fuzz_cmdline.c parsers/cmdline.c parsers/cmdline.h tests/fuzz/fuzz.mk
	$(fuzz-link)

.PHONY: check-fuzzqmp
check-fuzzqmp:
	$(Q)$(FUZZ_RUN) check fuzzqmp $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_qmp:% $(B)/fuzz/fuzz_cmdline:%,$(FUZZ_SPECS))
