# tests/emit/emit.mk - emit --format libvirt|qemu|xl and import-libvirt: the
# CLI's golden outputs, libvirt's domain.rng, the import round trip and
# hostile XML (tests/emit/run.py), and the API's unit tests
# (tests/emit/test_interop.c, Criterion). Included by the top Makefile.
#   make check-emit     run them, write $(B)/results/emit
#   make emit-update    rewrite tests/emit/expected/ (then review every diff)
B ?= build
CHECK_LAYERS += emit
EMIT_UNIT := $(B)/emit/test_interop

$(EMIT_UNIT): tests/emit/test_interop.c include/cgplace_interop.h $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ tests/emit/test_interop.c $(LIBA) $(LDFLAGS) -lcriterion $(PKG_LIBS)

.PHONY: check-emit emit-update
check-emit: $(BIN) $(EMIT_UNIT)
	@mkdir -p $(B)/results
	$(Q)python3 tests/emit/run.py --results $(B)/results/emit $(BIN) $(EMIT_UNIT)

emit-update: $(BIN)
	$(Q)python3 tests/emit/run.py --update $(BIN)
