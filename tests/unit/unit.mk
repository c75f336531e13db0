# tests/unit/unit.mk - Criterion unit tests (bitmap, topology readers, queries).
# Included by the top Makefile.  Test binaries link the static archive, so the
# internal helpers (lib/internal.h, topology/topology.h) are testable too.
#   make check-unit                 build and run every tests/unit/test_*.c
#   make unit-build                 only build the binaries (used by check-asan)
#   make check-unit UNIT_ARGS=...   extra Criterion options (e.g. --filter 'bitmap*/*')
B ?= build
CHECK_LAYERS += unit
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(B)/unit/%)
UNIT_CFLAGS := $(WFLAGS) -Itopology $(PKG_CFLAGS)
UNIT_LIBS   := -lcriterion $(PKG_LIBS)
UNIT_ARGS   ?=

$(B)/unit/%: tests/unit/%.c tests/unit/unit_helpers.h $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(UNIT_CFLAGS) $(CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) $(UNIT_LIBS)

# The CLI's JSON printer, compared with json-c's (it is not in the library).
$(B)/unit/test_json_out: tests/unit/test_json_out.c cli/json-out.c cli/cli.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -Icli $(CFLAGS) -o $@ $< cli/json-out.c $(LDFLAGS) $(UNIT_LIBS)

.PHONY: check-unit unit-build
unit-build: $(UNIT_BINS)

check-unit: $(UNIT_BINS)
	$(Q)tests/unit/run.sh $(B) unit "$(UNIT_ARGS)" $(UNIT_BINS)
