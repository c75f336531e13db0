# tests/fuzz/fuzz.mk - libFuzzer targets (clang, ASan+UBSan), included by the top Makefile.
#   make check-fuzz                   run each target over its seed corpus, then fuzz it
#   make check-fuzz FUZZ_SECONDS=300  fuzz longer (default 30 s per target)
#   make fuzz-build                   only build $(B)/fuzz/fuzz_*
# Targets are compiled from the sources directly with clang (not the gcc objects).
# Seeds: tests/fuzz/corpus/<name>/; new inputs go to $(B)/fuzz/corpus-<name>/ and
# crashes to $(B)/fuzz/<target>-crash-* (reproduce: $(B)/fuzz/<target> FILE).
B ?= build
CHECK_LAYERS += fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -std=c11 -Wall -Wextra -D_GNU_SOURCE \
                -Iinclude -Ilib -Itopology -DCGP_VERSION=\"fuzz\"
FUZZ_TARGETS := $(B)/fuzz/fuzz_cpulist $(B)/fuzz/fuzz_topology

$(B)/fuzz/fuzz_cpulist: tests/fuzz/fuzz_cpulist.c lib/bitmap.c lib/arena.c lib/internal.h include/cgplace.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_cpulist.c lib/bitmap.c lib/arena.c

$(B)/fuzz/fuzz_topology: tests/fuzz/fuzz_topology.c $(LIB_SRCS) \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ tests/fuzz/fuzz_topology.c $(LIB_SRCS) $(PKG_LIBS)

.PHONY: check-fuzz fuzz-build
fuzz-build: $(FUZZ_TARGETS)

check-fuzz:
	$(Q)tests/fuzz/run.sh $(B) $(FUZZ_SECONDS) "$(MAKE) --no-print-directory" $(FUZZ_TARGETS)
