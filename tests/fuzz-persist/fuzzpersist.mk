# tests/fuzz-persist/fuzzpersist.mk - libFuzzer target for --persist's edit of a
# policy file (policy/persist.c) over the asym fixture host; built and run by
# the shared harness in tests/fuzz/fuzz.mk.   make check-fuzzpersist [FUZZ_RUNS_persist=N]
CHECK_LAYERS += fuzzpersist
FUZZ_RUNS_persist ?= 5000
FUZZ_SPECS += $(B)/fuzz/fuzz_persist:tests/fuzz-persist/corpus:4096:$(FUZZ_RUNS_persist)

$(B)/fuzz/fuzz_persist: tests/fuzz-persist/fuzz_persist.c tests/fuzz/fuzz_host.h $(LIB_SRCS) tests/fuzz/fuzz.mk \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	$(fuzz-link)

.PHONY: check-fuzzpersist
# the fixture by its path: this file is read before tests/fuzz/fuzz.mk defines FUZZ_FIXTURE
check-fuzzpersist: $(B)/fuzz/fixtures/asym
	$(Q)$(FUZZ_RUN) check fuzzpersist $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_persist:%,$(FUZZ_SPECS))
