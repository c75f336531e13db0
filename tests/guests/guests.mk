# tests/guests/guests.mk - guest discovery and QMP: Criterion unit tests on
# fake proc trees, recorded QMP transcripts, a fake QMP server, a real
# qemu-system-x86_64 (TCG; skipped when QEMU is missing, counted through
# --tap), and golden tests of `cgplace guests` over a fixture sysroot, all
# run and counted by tests/guests/golden.py (tests/golden/harness.py).
#   make check-guests [GUESTS_ARGS=criterion-options]
B ?= build
CHECK_LAYERS += guests
GUESTS_SRCS   := $(wildcard tests/guests/test_*.c)
GUESTS_BINS   := $(GUESTS_SRCS:tests/guests/%.c=$(B)/guests/%)
GUESTS_CFLAGS := $(WFLAGS) -Wno-format-truncation -Iguests -Iparsers -Itests/common $(PKG_CFLAGS)
GUESTS_ARGS   ?=

$(B)/guests/%: tests/guests/%.c tests/guests/fakeproc.h tests/common/qmp_replies.h $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(GUESTS_CFLAGS) $(CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) -lcriterion -lpthread $(PKG_LIBS)

.PHONY: check-guests guests-build
guests-build: $(GUESTS_BINS)

check-guests: all $(GUESTS_BINS)
	@mkdir -p $(B)/results $(B)/guests
	$(Q)python3 tests/guests/golden.py --criterion-args "$(GUESTS_ARGS)" $(BIN) $(B)/guests $(B)/results/guests \
	    $(GUESTS_BINS)
