# tests/emit/emit.mk - emit --format libvirt|qemu|xl and import-libvirt through
# the CLI: golden outputs, libvirt's domain.rng, the import round trip and
# hostile XML (tests/emit/run.py). Included by the top Makefile.
#   make check-emit     run them, write $(B)/results/emit
#   make emit-update    rewrite tests/emit/expected/ (then review every diff)
B ?= build
CHECK_LAYERS += emit

.PHONY: check-emit emit-update
check-emit: $(BIN)
	@mkdir -p $(B)/results
	$(Q)python3 tests/emit/run.py --results $(B)/results/emit $(BIN)

emit-update: $(BIN)
	$(Q)python3 tests/emit/run.py --update $(BIN)
