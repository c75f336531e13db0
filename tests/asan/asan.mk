# tests/asan/asan.mk - the sanitizer layer, included by the top Makefile.
#   make check-asan    build library + CLI + unit tests (tests/common/criterion.mk)
#                      with SAN=1 (-fsanitize=address,undefined) into $(B)/asan,
#                      run the unit tests, the golden CLI tests (tests/golden/run.py)
#                      and a CLI smoke run over the oracle dumps
#                      (/work/shared/oracles or ASAN_ORACLES, when present)
#                      with the sanitized binary; writes $(B)/results/asan.
#   ASAN_SMOKE=0       skip the oracle smoke run.
B ?= build
CHECK_LAYERS += asan
ASAN_B       := $(B)/asan
ASAN_ORACLES ?= $(wildcard ../shared/oracles /work/shared/oracles)
ASAN_SMOKE   ?= 1

.PHONY: check-asan
check-asan:
	$(Q)$(MAKE) --no-print-directory B=$(ASAN_B) SAN=1 all unit-build
	$(Q)ASAN_SMOKE=$(ASAN_SMOKE) tests/asan/run.sh $(B) $(ASAN_B) "$(firstword $(ASAN_ORACLES))"
