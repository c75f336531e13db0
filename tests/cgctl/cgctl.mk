# tests/cgctl/cgctl.mk - Criterion unit tests of the enforcement engine (cgctl/)
# on a fake cgroup v2 tree made of plain files (tests/cgctl/fakecg.c plays the
# kernel through the engine's test hooks). Links the static archive, with the
# engine's objects compiled again with -DCGP_TESTING (the fault points of
# cgctl/testing.c) ahead of it; a test checks that the release binaries
# $(BIN) and $(LIBSO) carry none of that. The libvirt client (cgctl/virt.c)
# runs against a fake libvirt.so.0 (tests/cgctl/fakevirt.c) built into
# $(CGCTL_FAKEVIRT_DIR), a directory only tests put on LD_LIBRARY_PATH, and
# the CLI does too (tests/cgctl/cli_libvirt.py, which then runs the
# Criterion binary); $(CGCTL_NOVIRT) is a libvirt.so.0 without libvirt's
# functions (a host where libvirt cannot be used).
#   make check-cgctl                  build and run
#   make check-cgctl CGCTL_ARGS=...   extra Criterion options (--filter 'cgctl/fault*')
B ?= build
CHECK_LAYERS += cgctl
CGCTL_BIN     := $(B)/cgctl/test_cgctl
CGCTL_FIXDIR  := $(B)/cgctl/fixtures
CGCTL_ARGS    ?=
CGCTL_TOBJS   := $(patsubst %.c,$(B)/cgctl/testing-obj/%.o,$(wildcard cgctl/*.c))
CGCTL_TESTS   := $(wildcard tests/cgctl/test_*.c)
CGCTL_FAKEVIRT_DIR := $(B)/cgctl/fakevirt
CGCTL_FAKEVIRT := $(CGCTL_FAKEVIRT_DIR)/libvirt.so.0
CGCTL_NOVIRT  := $(B)/cgctl/novirt/libvirt.so.0

$(CGCTL_FAKEVIRT): tests/cgctl/fakevirt.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -Wno-format-truncation -D_GNU_SOURCE $(CFLAGS) -fPIC -shared \
	    -fvisibility=hidden -Wl,-soname,libvirt.so.0 -o $@ $<

$(CGCTL_NOVIRT):
	@mkdir -p $(dir $@)
	$(Q)printf 'int cgplace_not_libvirt;\n' | $(CC) -fPIC -shared -Wl,-soname,libvirt.so.0 -x c -o $@ -

$(B)/cgctl/testing-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(LIB_CFLAGS) -DCGP_TESTING $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(CGCTL_TOBJS:.o=.d)

$(CGCTL_BIN): $(CGCTL_TESTS) tests/cgctl/fakecg.c tests/cgctl/fakecg.h cgctl/cgctl-int.h cgctl/virt.h \
              include/cgplace_cgctl.h $(CGCTL_TOBJS) $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(WFLAGS) -Icgctl $(PKG_CFLAGS) $(CFLAGS) -o $@ $(CGCTL_TESTS) tests/cgctl/fakecg.c \
	    $(CGCTL_TOBJS) $(LIBA) $(LDFLAGS) -lcriterion $(PKG_LIBS)

$(CGCTL_FIXDIR)/two-socket-smt/sys: tests/fixtures/mkfixtures.py
	@mkdir -p $(CGCTL_FIXDIR)
	$(Q)python3 tests/fixtures/mkfixtures.py $(CGCTL_FIXDIR) two-socket-smt >/dev/null

.PHONY: check-cgctl
check-cgctl: all $(CGCTL_BIN) $(CGCTL_FAKEVIRT) $(CGCTL_NOVIRT) $(CGCTL_FIXDIR)/two-socket-smt/sys
	@mkdir -p $(B)/results
	$(Q)CGCTL_FIXTURE=$(abspath $(CGCTL_FIXDIR))/two-socket-smt CGCTL_FAKEVIRT=$(abspath $(CGCTL_FAKEVIRT)) \
	    CGCTL_RELEASE_BINS=$(abspath $(BIN)):$(abspath $(LIBSO)).$(SOVERSION) CGCTL_TESTING_BUILD=$(CGP_TESTING) \
	    python3 tests/cgctl/cli_libvirt.py --criterion-args "$(CGCTL_ARGS)" $(BIN) $(abspath $(dir $(CGCTL_FAKEVIRT))) \
	    $(abspath $(dir $(CGCTL_NOVIRT))) $(B)/cgctl/cli $(B)/results/cgctl $(CGCTL_BIN)
