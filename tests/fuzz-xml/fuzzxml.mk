# tests/fuzz-xml/fuzzxml.mk - libFuzzer target for the libvirt domain XML
# reader behind import-libvirt (parsers/libvirt-xml.c, policy/import.c);
# built and run by the shared harness in tests/fuzz/fuzz.mk.
#   make check-fuzzxml [FUZZ_RUNS_libvirt=N]
CHECK_LAYERS += fuzzxml
FUZZ_RUNS_libvirt ?= 200000
FUZZ_SPECS += $(B)/fuzz/fuzz_libvirt:tests/fuzz-xml/corpus:8192:$(FUZZ_RUNS_libvirt)

$(B)/fuzz/fuzz_libvirt: tests/fuzz-xml/fuzz_libvirt.c $(LIB_SRCS) tests/fuzz/fuzz.mk \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	$(fuzz-link)

.PHONY: check-fuzzxml
check-fuzzxml:
	$(Q)$(FUZZ_RUN) check fuzzxml $(B) $(FUZZ_MAKE) $(filter $(B)/fuzz/fuzz_libvirt:%,$(FUZZ_SPECS))
