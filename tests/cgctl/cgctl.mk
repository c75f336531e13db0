# tests/cgctl/cgctl.mk - Criterion unit tests of the enforcement engine (cgctl/)
# on a fake cgroup v2 tree made of plain files (tests/cgctl/fakecg.c plays the
# kernel through the engine's test hooks). Links the static archive.
#   make check-cgctl                  build and run
#   make check-cgctl CGCTL_ARGS=...   extra Criterion options (--filter 'cgctl/fault*')
B ?= build
CHECK_LAYERS += cgctl
CGCTL_BIN     := $(B)/cgctl/test_cgctl
CGCTL_FIXDIR  := $(B)/cgctl/fixtures
CGCTL_ARGS    ?=

$(CGCTL_BIN): tests/cgctl/test_cgctl.c tests/cgctl/fakecg.c tests/cgctl/fakecg.h cgctl/cgctl-int.h \
              include/cgplace_cgctl.h $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(WFLAGS) -Icgctl $(PKG_CFLAGS) $(CFLAGS) -o $@ tests/cgctl/test_cgctl.c tests/cgctl/fakecg.c \
	    $(LIBA) $(LDFLAGS) -lcriterion $(PKG_LIBS)

$(CGCTL_FIXDIR)/two-socket-smt/sys: tests/fixtures/mkfixtures.py
	@mkdir -p $(CGCTL_FIXDIR)
	$(Q)python3 tests/fixtures/mkfixtures.py $(CGCTL_FIXDIR) two-socket-smt >/dev/null

.PHONY: check-cgctl
check-cgctl: all $(CGCTL_BIN) $(CGCTL_FIXDIR)/two-socket-smt/sys
	$(Q)CGCTL_FIXTURE=$(abspath $(CGCTL_FIXDIR))/two-socket-smt tests/unit/run.sh $(B) cgctl "$(CGCTL_ARGS)" $(CGCTL_BIN)
