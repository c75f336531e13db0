# tests/fuzz-watch/fuzzwatch.mk - libFuzzer target for watch's event parsers
# (topology/uevent.c, guests/procevents.c); built and run by the shared harness
# in tests/fuzz/fuzz.mk.
#   make check-fuzzwatch [FUZZ_RUNS_events=N]
CHECK_LAYERS += fuzzwatch
FUZZ_RUNS_events ?= 300000
FUZZ_SPECS += $(B)/fuzz/fuzz_events:tests/fuzz-watch/corpus:4096:$(FUZZ_RUNS_events)

$(B)/fuzz/fuzz_events: tests/fuzz-watch/fuzz_events.c $(LIB_SRCS) tests/fuzz/fuzz.mk include/cgplace_watch.h \
    $(wildcard include/*.h lib/*.h guests/*.h parsers/*.h)
	$(fuzz-link)

.PHONY: check-fuzzwatch
check-fuzzwatch:
	$(Q)$(FUZZ_RUN) check fuzzwatch $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_events:%,$(FUZZ_SPECS))
