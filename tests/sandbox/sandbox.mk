# tests/sandbox/sandbox.mk - the seccomp self-sandbox (cli/sandbox.c, spec §7):
# Criterion tests that install the filter in a forked child and try exec,
# sockets, other processes and file I/O; then tests/sandbox/cli.py runs every
# command sandboxed and not (same output, no EPERM, the filter installed before
# the first write to stdout, seen with strace) and tests/guests/golden.py
# sandboxed; tests/sandbox/probe.py preloads tests/sandbox/probe.c into
# sandboxed runs (Landlock, capabilities: issue 10 problem 3); cli.py runs the
# Criterion binary too (--tap) and writes the layer's one result file (tests/golden/harness.py counts).
#   make check-sandbox [SANDBOX_ARGS=criterion-options]
B ?= build
CHECK_LAYERS += sandbox
SANDBOX_BIN  := $(B)/sandbox/test_sandbox
SANDBOX_ARGS ?=

$(SANDBOX_BIN): tests/sandbox/test_sandbox.c cli/sandbox.c cli/privilege.c cli/prometheus.c cli/json-out.c cli/error.c cli/cli.h $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CLI_CFLAGS) -Icli $(CFLAGS) -o $@ tests/sandbox/test_sandbox.c cli/sandbox.c cli/privilege.c cli/prometheus.c cli/json-out.c \
	    cli/error.c $(LIBA) $(LDFLAGS) -lcriterion $(LINK_LIBS) $(CLI_LIBS)

# the LD_PRELOAD probe (tests/sandbox/probe.py here, tests/vm/t/71-least-privilege.py in the VM)
PROBE_SO := $(B)/sandbox/probe.so
$(PROBE_SO): tests/sandbox/probe.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $<

.PHONY: check-sandbox
check-sandbox: all $(SANDBOX_BIN) $(PROBE_SO)
	@mkdir -p $(B)/results $(B)/sandbox
	$(Q)CGP_PROBE_SO=$(PROBE_SO) python3 tests/sandbox/cli.py --criterion-args "$(SANDBOX_ARGS)" $(BIN) $(B)/sandbox/work \
	    $(B)/results/sandbox $(SANDBOX_BIN)
