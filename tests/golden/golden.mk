# tests/golden/golden.mk - golden outputs of the CLI on generated fixture trees.
# Included by the top Makefile.
#   make check-golden     run tests/golden/run.py, write $(B)/results/golden
#   make golden-update    rewrite tests/golden/expected/ from the current output
#                         (then review every diff: see tests/golden/run.py)
B ?= build
CHECK_LAYERS += golden

.PHONY: check-golden golden-update
check-golden: $(BIN)
	@mkdir -p $(B)/results
	$(Q)python3 tests/golden/run.py --results $(B)/results/golden $(BIN)

golden-update: $(BIN)
	$(Q)python3 tests/golden/run.py --update $(BIN)
