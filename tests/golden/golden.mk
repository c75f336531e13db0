# tests/golden/golden.mk - golden outputs of the CLI on generated fixture trees.
# Included by the top Makefile.
#   make check-golden     run tests/golden/run.sh, write $(B)/results/golden
#   make golden-update    rewrite tests/golden/expected/ from the current output
#                         (then review every diff: see tests/golden/run.sh)
B ?= build
CHECK_LAYERS += golden
GOLDEN_LOG := $(B)/golden.log

.PHONY: check-golden golden-update
check-golden: $(BIN)
	@mkdir -p $(B)/results
	@rm -f $(B)/results/golden $(GOLDEN_LOG).rc
	@{ tests/golden/run.sh $(BIN); echo $$? > $(GOLDEN_LOG).rc; } 2>&1 | tee $(GOLDEN_LOG)
	@rc=$$(cat $(GOLDEN_LOG).rc 2>/dev/null || echo 1); \
	line=$$(tail -n 1 $(GOLDEN_LOG)); \
	case "$$line" in \
	*" passed, "*" failed") set -- $$line; echo "$$1 $$3 0" > $(B)/results/golden ;; \
	*) echo "check-golden: run.sh ended without a summary (exit $$rc)"; \
	   echo "0 1 0" > $(B)/results/golden; [ "$$rc" != 0 ] || rc=1 ;; \
	esac; \
	exit $$rc

golden-update: $(BIN)
	@tests/golden/run.sh --update $(BIN)
