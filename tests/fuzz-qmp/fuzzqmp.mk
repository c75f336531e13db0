# tests/fuzz-qmp/fuzzqmp.mk - libFuzzer targets for the QMP session parser
# (parsers/qmp.c) and the QEMU command line parser (parsers/cmdline.c).
# clang, ASan+UBSan, sources compiled directly.
#   make check-fuzzqmp [FUZZQMP_SECONDS=N]   (per target; default FUZZ_SECONDS or 20)
B ?= build
CHECK_LAYERS += fuzzqmp
FUZZQMP_CC      ?= clang
FUZZQMP_SECONDS ?= $(or $(FUZZ_SECONDS),20)
FUZZQMP_BINS    := $(B)/fuzz-qmp/fuzz_qmp $(B)/fuzz-qmp/fuzz_cmdline
FUZZQMP_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                   -fno-sanitize-recover=undefined -std=c11 -Wall -Wextra -D_GNU_SOURCE -Iparsers

$(B)/fuzz-qmp/fuzz_qmp: tests/fuzz-qmp/fuzz_qmp.c parsers/qmp.c parsers/qmp.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $@")
	-$(Q)$(FUZZQMP_CC) $(FUZZQMP_CFLAGS) $(PKG_CFLAGS) -o $@ tests/fuzz-qmp/fuzz_qmp.c parsers/qmp.c $(PKG_LIBS)

$(B)/fuzz-qmp/fuzz_cmdline: tests/fuzz-qmp/fuzz_cmdline.c parsers/cmdline.c parsers/cmdline.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $@")
	-$(Q)$(FUZZQMP_CC) $(FUZZQMP_CFLAGS) -o $@ tests/fuzz-qmp/fuzz_cmdline.c parsers/cmdline.c

.PHONY: check-fuzzqmp
check-fuzzqmp: $(FUZZQMP_BINS)
	$(Q)tests/fuzz-qmp/run.sh $(B) $(FUZZQMP_SECONDS) $(FUZZQMP_BINS)
