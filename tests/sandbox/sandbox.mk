# tests/sandbox/sandbox.mk - the seccomp self-sandbox (cli/sandbox.c, spec §7):
# Criterion tests that install the filter in a forked child and try exec,
# sockets, other processes and file I/O; then tests/sandbox/cli.py runs every
# command sandboxed and not (same output, no EPERM, the filter installed before
# the first write to stdout, seen with strace) and tests/guests/golden.py
# sandboxed.
#   make check-sandbox [SANDBOX_ARGS=criterion-options]
B ?= build
CHECK_LAYERS += sandbox
SANDBOX_BIN  := $(B)/sandbox/test_sandbox
SANDBOX_ARGS ?=

$(SANDBOX_BIN): tests/sandbox/test_sandbox.c cli/sandbox.c cli/error.c cli/cli.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CLI_CFLAGS) -Icli $(CFLAGS) -o $@ tests/sandbox/test_sandbox.c cli/sandbox.c cli/error.c \
	    $(LDFLAGS) -lcriterion $(LINK_LIBS)

.PHONY: check-sandbox
check-sandbox: all $(SANDBOX_BIN)
	@mkdir -p $(B)/results $(B)/sandbox
	$(Q)rc=0; tests/unit/run.sh $(B) sandbox-unit "$(SANDBOX_ARGS)" $(SANDBOX_BIN) || rc=1; \
	PYTHONDONTWRITEBYTECODE=1 python3 tests/sandbox/cli.py $(BIN) $(B)/sandbox/work $(B)/results/sandbox-cli || rc=1; \
	p1=0; f1=1; s1=0; p2=0; f2=1; s2=0; \
	[ -s $(B)/results/sandbox-unit ] && read p1 f1 s1 < $(B)/results/sandbox-unit; \
	[ -s $(B)/results/sandbox-cli ] && read p2 f2 s2 < $(B)/results/sandbox-cli; \
	echo "$$((p1 + p2)) $$((f1 + f2)) $$((s1 + s2))" > $(B)/results/sandbox; \
	rm -f $(B)/results/sandbox-unit $(B)/results/sandbox-cli; \
	echo "sandbox: $$((p1 + p2)) passed, $$((f1 + f2)) failed, $$((s1 + s2)) skipped"; exit $$rc
