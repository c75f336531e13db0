# tests/cgctl/cgctl.mk - Criterion unit tests of the enforcement engine (cgctl/)
# on a fake cgroup v2 tree made of plain files (tests/cgctl/fakecg.c plays the
# kernel through the engine's test hooks). Links the static archive, with the
# engine's objects compiled again with -DCGP_TESTING (the fault points of
# cgctl/testing.c) ahead of it; a test checks that the release binaries
# $(BIN) and $(LIBSO) carry none of that.
#   make check-cgctl                  build and run
#   make check-cgctl CGCTL_ARGS=...   extra Criterion options (--filter 'cgctl/fault*')
B ?= build
CHECK_LAYERS += cgctl
CGCTL_BIN     := $(B)/cgctl/test_cgctl
CGCTL_FIXDIR  := $(B)/cgctl/fixtures
CGCTL_ARGS    ?=
CGCTL_TOBJS   := $(patsubst %.c,$(B)/cgctl/testing-obj/%.o,$(wildcard cgctl/*.c))
CGCTL_TESTS   := $(wildcard tests/cgctl/test_*.c)

$(B)/cgctl/testing-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(LIB_CFLAGS) -DCGP_TESTING $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(CGCTL_TOBJS:.o=.d)

$(CGCTL_BIN): $(CGCTL_TESTS) tests/cgctl/fakecg.c tests/cgctl/fakecg.h cgctl/cgctl-int.h \
              include/cgplace_cgctl.h $(CGCTL_TOBJS) $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(WFLAGS) -Icgctl $(PKG_CFLAGS) $(CFLAGS) -o $@ $(CGCTL_TESTS) tests/cgctl/fakecg.c \
	    $(CGCTL_TOBJS) $(LIBA) $(LDFLAGS) -lcriterion $(PKG_LIBS)

$(CGCTL_FIXDIR)/two-socket-smt/sys: tests/fixtures/mkfixtures.py
	@mkdir -p $(CGCTL_FIXDIR)
	$(Q)python3 tests/fixtures/mkfixtures.py $(CGCTL_FIXDIR) two-socket-smt >/dev/null

.PHONY: check-cgctl
check-cgctl: all $(CGCTL_BIN) $(CGCTL_FIXDIR)/two-socket-smt/sys
	$(Q)CGCTL_FIXTURE=$(abspath $(CGCTL_FIXDIR))/two-socket-smt \
	    CGCTL_RELEASE_BINS=$(abspath $(BIN)):$(abspath $(LIBSO)).$(SOVERSION) CGCTL_TESTING_BUILD=$(CGP_TESTING) \
	    $(CRITERION_RUN) $(B) cgctl "$(CGCTL_ARGS)" $(CGCTL_BIN)
