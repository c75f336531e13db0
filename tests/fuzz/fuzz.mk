# tests/fuzz/fuzz.mk - the libFuzzer harness shared by every fuzz target
# (clang, ASan+UBSan, sources compiled directly, not the gcc objects).
#   make check-fuzz                the gate: seeds + FUZZ_RUNS_<name> inputs from seed 1
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_SEED=0]   explore every target in turn
#   make fuzz-NAME                 explore one (cpulist topology policy qmp cmdline)
#   make fuzz-build                only build $(B)/fuzz/fuzz_*
# Every target depends on this file, so a change of flags rebuilds it.
# Each fuzz*.mk adds its targets to FUZZ_SPECS as BIN:SEEDS:MAX_LEN:RUNS
# (see tests/fuzz/run.sh); a finding's reproduce line names the crash file.
B ?= build
CHECK_LAYERS += fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SEED    ?= 0
# no stack-depth feature: frame addresses of realigned (ASan) frames move with
# ASLR, so the same input gave different features from run to run
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-coverage=stack-depth -fno-sanitize-recover=undefined \
                -std=c11 -Wall -Wextra -D_GNU_SOURCE -Iinclude -Ilib -Itopology -Iparsers \
                -DCGP_VERSION=\"fuzz\"
# the policy target compiles against this fixture host
FUZZ_FIXTURE := $(B)/fuzz/fixtures/asym
FUZZ_ENV     := FUZZ_POLICY_SYSROOT=$(FUZZ_FIXTURE)
FUZZ_RUN      = FUZZ_CC=$(FUZZ_CC) FUZZ_ENV="$(FUZZ_ENV)" tests/fuzz/run.sh
FUZZ_MAKE    := "$(MAKE) -s --no-print-directory"
define fuzz-link
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS)
endef

FUZZ_RUNS_cpulist  ?= 300000
FUZZ_RUNS_topology ?= 15000
FUZZ_SPECS += $(B)/fuzz/fuzz_cpulist:tests/fuzz/corpus/cpulist:4096:$(FUZZ_RUNS_cpulist) \
              $(B)/fuzz/fuzz_topology:tests/fuzz/corpus/topology:4096:$(FUZZ_RUNS_topology)

$(B)/fuzz/fuzz_cpulist: tests/fuzz/fuzz_cpulist.c tests/fuzz/fuzz_check.h lib/bitmap.c lib/arena.c lib/internal.h \
                      include/cgplace.h tests/fuzz/fuzz.mk
	$(fuzz-link)

$(B)/fuzz/fuzz_topology: tests/fuzz/fuzz_topology.c tests/fuzz/fuzz_tree.h tests/fuzz/fuzz_check.h $(LIB_SRCS) tests/fuzz/fuzz.mk \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	$(fuzz-link)

$(FUZZ_FIXTURE): tests/fixtures/mkfixtures.py
	@mkdir -p $(dir $@)
	$(Q)python3 tests/fixtures/mkfixtures.py $(dir $@) asym >/dev/null

# regenerated each run, like every fixture tree
.PHONY: check-fuzz fuzz fuzz-build $(FUZZ_FIXTURE)
fuzz-build: $(foreach s,$(FUZZ_SPECS),$(firstword $(subst :, ,$(s))))

check-fuzz:
	$(Q)$(FUZZ_RUN) check fuzz $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_cpulist:% $(B)/fuzz/fuzz_topology:%,$(FUZZ_SPECS))

fuzz: $(FUZZ_FIXTURE)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) $(FUZZ_RUN) explore fuzz $(B) $(FUZZ_MAKE) $(FUZZ_SPECS)

fuzz-%: $(FUZZ_FIXTURE)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) $(FUZZ_RUN) explore fuzz-$* $(B) $(FUZZ_MAKE) \
	    $(or $(filter $(B)/fuzz/fuzz_$*:%,$(FUZZ_SPECS)),$(error no fuzz target fuzz_$*))
