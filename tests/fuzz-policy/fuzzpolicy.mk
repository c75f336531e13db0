# tests/fuzz-policy/fuzzpolicy.mk - libFuzzer target for the policy parser
# (and compiler, over the asym fixture host); built and run by the shared
# harness in tests/fuzz/fuzz.mk.   make check-fuzzpolicy [FUZZ_RUNS_policy=N]
CHECK_LAYERS += fuzzpolicy
FUZZ_RUNS_policy ?= 120000
FUZZ_SPECS += $(B)/fuzz/fuzz_policy:tests/fuzz-policy/corpus:8192:$(FUZZ_RUNS_policy)

$(B)/fuzz/fuzz_policy: tests/fuzz-policy/fuzz_policy.c tests/fuzz/fuzz_host.h $(LIB_SRCS) tests/fuzz/fuzz.mk \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	$(fuzz-link)

.PHONY: check-fuzzpolicy
# the fixture by its path: this file is read before tests/fuzz/fuzz.mk defines FUZZ_FIXTURE
check-fuzzpolicy: $(B)/fuzz/fixtures/asym
	$(Q)$(FUZZ_RUN) check fuzzpolicy $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_policy:%,$(FUZZ_SPECS))
