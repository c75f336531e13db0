# tests/guests/guests.mk - guest discovery and QMP: Criterion unit tests on
# fake proc trees, recorded QMP transcripts, a fake QMP server, a real
# qemu-system-x86_64 (TCG; skipped when QEMU is missing, counted through
# --tap), and golden tests of
# `cgplace guests` over a fixture sysroot.
#   make check-guests [GUESTS_ARGS=criterion-options]
B ?= build
CHECK_LAYERS += guests
GUESTS_SRCS   := $(wildcard tests/guests/test_*.c)
GUESTS_BINS   := $(GUESTS_SRCS:tests/guests/%.c=$(B)/guests/%)
GUESTS_CFLAGS := $(WFLAGS) -Wno-format-truncation -Iguests -Iparsers $(PKG_CFLAGS)
GUESTS_ARGS   ?=

$(B)/guests/%: tests/guests/%.c tests/guests/fakeproc.h $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(GUESTS_CFLAGS) $(CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) -lcriterion -lpthread $(PKG_LIBS)

.PHONY: check-guests guests-build
guests-build: $(GUESTS_BINS)

check-guests: all $(GUESTS_BINS)
	@mkdir -p $(B)/results $(B)/guests
	$(Q)rc=0; tests/unit/run.sh $(B) guests-unit "$(GUESTS_ARGS)" $(GUESTS_BINS) || rc=1; \
	python3 tests/guests/golden.py $(BIN) $(B)/guests $(B)/results/guests-golden || rc=1; \
	p1=0; f1=1; s1=0; p2=0; f2=1; s2=0; \
	[ -s $(B)/results/guests-unit ] && read p1 f1 s1 < $(B)/results/guests-unit; \
	[ -s $(B)/results/guests-golden ] && read p2 f2 s2 < $(B)/results/guests-golden; \
	echo "$$((p1 + p2)) $$((f1 + f2)) $$((s1 + s2))" > $(B)/results/guests; \
	rm -f $(B)/results/guests-unit $(B)/results/guests-golden; \
	echo "guests: $$((p1 + p2)) passed, $$((f1 + f2)) failed, $$((s1 + s2)) skipped"; exit $$rc
