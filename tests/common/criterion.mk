# tests/common/criterion.mk - the Criterion unit-test layers of the parts
# tests/lib, tests/topology, tests/parsers and tests/cli: each PART.mk there
# calls criterion-layer once. Included by the top Makefile before the fragments.
#   make check-PART                  build and run every tests/PART/test_*.c
#   make check-unit                  all of those binaries at once (one count, results/unit)
#   make unit-build                  only build them (used by check-asan)
#   make check-PART UNIT_ARGS=...    extra Criterion options (e.g. --filter 'bitmap*/*'); check-unit too
# The other parts' tests (cgctl, guests, policy, sandbox) have their own runners.
B ?= build
UNIT_CFLAGS := $(WFLAGS) -Itests/common $(PKG_CFLAGS)
UNIT_LIBS   := -lcriterion $(PKG_LIBS)
UNIT_ARGS   ?=
UNIT_BINS   :=
CRITERION_RUN := tests/common/criterion.sh

# $(eval $(call criterion-layer,PART[,EXTRA_CFLAGS[,LINK]])): layer PART.
# $(B)/PART/test_X is built from tests/PART/test_X.c with -IPART (the part's
# internal headers) and EXTRA_CFLAGS, linked with LINK, by default the static
# archive (so internal helpers are testable too); headers tracked with -MMD.
define criterion-layer
CHECK_LAYERS += $(1)
UNIT_BINS_$(1) := $$(patsubst tests/$(1)/%.c,$$(B)/$(1)/%,$$(wildcard tests/$(1)/test_*.c))
UNIT_BINS += $$(UNIT_BINS_$(1))

$$(UNIT_BINS_$(1)): $$(B)/$(1)/%: tests/$(1)/%.c $(or $(3),$$(LIBA))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      $$@")
	$$(Q)$$(CC) $$(UNIT_CFLAGS) -I$(1) $(2) $$(CFLAGS) -MMD -MP -MF $$@.d -MT $$@ -o $$@ $$< \
	    $(or $(3),$$(LIBA)) $$(LDFLAGS) $$(UNIT_LIBS)

-include $$(UNIT_BINS_$(1):=.d)

.PHONY: check-$(1)
check-$(1): $$(UNIT_BINS_$(1))
	$$(Q)$$(CRITERION_RUN) $$(B) $(1) "$$(UNIT_ARGS)" $$(UNIT_BINS_$(1))

unit-build check-unit: $$(UNIT_BINS_$(1))
endef

.PHONY: check-unit unit-build
check-unit:
	$(Q)$(CRITERION_RUN) $(B) unit "$(UNIT_ARGS)" $(UNIT_BINS)
