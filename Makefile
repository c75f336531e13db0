# cgplace — plain Makefile.  make [all|check|demo|install|uninstall|clean] [V=1]
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
INITDIR   ?= $(SYSCONFDIR)/init.d
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
DESTDIR   ?=
B         ?= build
CC        ?= gcc
VERSION   := 0.1.0
SOVERSION := 0

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS      := libxml-2.0 json-c libseccomp libsystemd numa
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# the command's own: capabilities are CLI policy (cli/privilege.c), not the library's
CLI_PKGS  := libcap-ng
CLI_LIBS  := $(shell pkg-config --libs $(CLI_PKGS) 2>/dev/null)
# libxml2 is dlopen()ed by the library (topology/capabilities.c), not linked
LINK_LIBS  := $(filter-out -lxml2,$(PKG_LIBS))

CFLAGS    ?= -O2 -g
WFLAGS    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
             -D_GNU_SOURCE -DCGP_VERSION=\"$(VERSION)\" -Iinclude -Ilib
# The test build (make B=build/test CGP_TESTING=1) compiles in the fault points
# the real-kernel tests drive from the environment (cgctl/testing.c); the
# release build has neither their code nor their strings.
CGP_TESTING ?=
ifeq ($(CGP_TESTING),1)
WFLAGS    += -DCGP_TESTING
endif
LIB_CFLAGS := $(WFLAGS) -fPIC -fvisibility=hidden -DCGP_BUILDING_LIB $(PKG_CFLAGS)
CLI_CFLAGS := $(WFLAGS) $(PKG_CFLAGS)
SAN       ?=
ifneq ($(SAN),)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=address,undefined
endif

LIB_SRCS  := $(wildcard lib/*.c topology/*.c parsers/*.c policy/*.c cgctl/*.c guests/*.c)
CLI_SRCS  := $(wildcard cli/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(B)/obj/%.o)
DEPS      := $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

LIBSO     := $(B)/libcgplace.so
LIBA      := $(B)/libcgplace.a
BIN       := $(B)/cgplace

.PHONY: all check check-fast demo demo-systemd install uninstall install-init uninstall-init clean deps
.PHONY: install-selinux uninstall-selinux
all: $(BIN) $(LIBSO)

$(B)/obj/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CLI_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(LIB_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBSO): $(LIB_OBJS) lib/libcgplace.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libcgplace.so.$(SOVERSION) -Wl,--version-script=lib/libcgplace.map \
	    -Wl,-z,defs $(LDFLAGS) -o $@.$(SOVERSION) $(LIB_OBJS) $(LINK_LIBS)
	$(Q)ln -sf libcgplace.so.$(SOVERSION) $@

$(LIBA): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $(LIB_OBJS)

$(BIN): $(CLI_OBJS) $(LIBSO)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) -L$(B) -lcgplace -Wl,-rpath,'$$ORIGIN' $(LINK_LIBS) $(CLI_LIBS)

deps:
	$(Q)scripts/deps.sh all

# Every test layer lives in its own fragment; each writes $(B)/results/LAYER ("PASSED FAILED").
# tests/common/criterion.mk comes first: the rule template the Criterion layers'
# fragments (tests/lib, tests/topology, tests/parsers, tests/cli) call.
include tests/common/criterion.mk
-include $(filter-out tests/common/%,$(wildcard tests/*/*.mk)) $(wildcard bench/*.mk)

check:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/check.sh $(B) $(CHECK_LAYERS)

# The developers' tier (about 4 minutes on 2 cores): every layer but the
# real-kernel ones (vm, vmenforce) and asan, which re-runs the other layers
# under the sanitizers (`make check-asan` alone: about 3.5 minutes); the
# fault sweeps try every 8th write and the last. Same closing line.
# `make check` stays the full suite CI runs.
CHECK_FAST_LAYERS = $(filter-out vm vmenforce asan,$(CHECK_LAYERS))
check-fast:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)CGCTL_SWEEP_STEP=8 scripts/check.sh $(B) $(CHECK_FAST_LAYERS)

demo:
	$(Q)scripts/deps.sh all
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(B)

# the same host with systemd as PID 1 and libvirtd: a libvirt guest and a plain one side by side
demo-systemd:
	$(Q)scripts/deps.sh all
	$(Q)$(MAKE) --no-print-directory all
	$(Q)B=$(B) tests/vm/demo-systemd.sh

install: all install-init install-selinux
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(B)/install/cgplace $(DESTDIR)$(BINDIR)/cgplace
	install -m 0644 $(LIBSO).$(SOVERSION) $(DESTDIR)$(LIBDIR)/libcgplace.so.$(VERSION)
	ln -sf libcgplace.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libcgplace.so.$(SOVERSION)
	ln -sf libcgplace.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libcgplace.so
	install -m 0644 $(HEADERS) $(DESTDIR)$(INCDIR)/
	install -m 0644 $(B)/cgplace.pc $(DESTDIR)$(PKGCONFIGDIR)/cgplace.pc
	$(foreach m,$(MANS),install -m 0644 $(m) $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)) &&) true
	install -m 0644 init/cgplace.bash-completion $(DESTDIR)$(BASHCOMPDIR)/cgplace

uninstall: uninstall-init uninstall-selinux
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# What install puts (cgplace(1) FILES, tests/install), besides the init files
# below: the binary relinked without the build tree's RUNPATH $$ORIGIN (it
# finds the library in LIBDIR like any other), the library with its soname
# (+ the .so link for -dev), headers, cgplace.pc, man pages 1/5/3 and the bash
# completion. uninstall removes exactly these (INSTALLED lists them).
# bash-completion's own layout, under our DATADIR so PREFIX is honoured
BASHCOMPDIR ?= $(or $(shell pkg-config --define-variable=datadir=$(DATADIR) --variable=completionsdir bash-completion 2>/dev/null),$(DATADIR)/bash-completion/completions)
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
HEADERS   := $(wildcard include/cgplace*.h)
MANS      := docs/cgplace.1 docs/cgplace.conf.5 docs/libcgplace.3
INSTALLED := $(BINDIR)/cgplace $(LIBDIR)/libcgplace.so.$(VERSION) $(LIBDIR)/libcgplace.so.$(SOVERSION) \
             $(LIBDIR)/libcgplace.so $(HEADERS:include/%=$(INCDIR)/%) $(PKGCONFIGDIR)/cgplace.pc \
             $(foreach m,$(MANS),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
             $(BASHCOMPDIR)/cgplace
install: $(B)/install/cgplace $(B)/cgplace.pc

# Requires.private: what the library links (libxml2 is dlopen()ed, the
# seccomp sandbox is the command's: cli/sandbox.c)
$(B)/cgplace.pc: lib/cgplace.pc.in Makefile
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCDIR@|$(INCDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(filter-out libxml-2.0 libseccomp,$(PKGS))|g' $< >$@

# $(BIN)'s link without the rpath (CLI_LIBS: the command's own libraries, if any)
$(B)/install/cgplace: $(CLI_OBJS) $(LIBSO)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) -L$(B) -lcgplace $(LINK_LIBS) $(CLI_LIBS)

# Boot-time enforcement (init/, cgplace(1) BOOT): the systemd units (not
# enabled: `systemctl enable cgplace`), the SysV script as $(INITDIR)/cgplace,
# the OpenRC script under $(DATADIR)/cgplace/openrc/ (it would clash with the
# SysV one in /etc/init.d: copy it there on an OpenRC host), and the default
# policy, never over an existing one; uninstall keeps a policy that was changed.
INIT_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
install-init:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(INITDIR) $(DESTDIR)$(DATADIR)/cgplace/openrc \
	    $(DESTDIR)$(SYSCONFDIR)/cgplace
	$(INIT_SUBST) init/cgplace.service >$(DESTDIR)$(SYSTEMDUNITDIR)/cgplace.service
	$(INIT_SUBST) init/cgplace-watch.service >$(DESTDIR)$(SYSTEMDUNITDIR)/cgplace-watch.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/cgplace.service $(DESTDIR)$(SYSTEMDUNITDIR)/cgplace-watch.service
	$(INIT_SUBST) init/cgplace.init >$(DESTDIR)$(INITDIR)/cgplace
	$(INIT_SUBST) init/cgplace.openrc >$(DESTDIR)$(DATADIR)/cgplace/openrc/cgplace
	chmod 0755 $(DESTDIR)$(INITDIR)/cgplace $(DESTDIR)$(DATADIR)/cgplace/openrc/cgplace
	[ -e $(DESTDIR)$(SYSCONFDIR)/cgplace/policy.conf ] || \
	    install -m 0644 init/policy.conf $(DESTDIR)$(SYSCONFDIR)/cgplace/policy.conf

uninstall-init:
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/cgplace.service $(DESTDIR)$(SYSTEMDUNITDIR)/cgplace-watch.service \
	      $(DESTDIR)$(INITDIR)/cgplace $(DESTDIR)$(DATADIR)/cgplace/openrc/cgplace
	-rmdir $(DESTDIR)$(DATADIR)/cgplace/openrc $(DESTDIR)$(DATADIR)/cgplace 2>/dev/null
	! cmp -s init/policy.conf $(DESTDIR)$(SYSCONFDIR)/cgplace/policy.conf || \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/cgplace/policy.conf
	-rmdir $(DESTDIR)$(SYSCONFDIR)/cgplace 2>/dev/null

# The SELinux module's source (selinux/README: build it with selinux-policy-dev
# and load it with semodule -i on the host), beside the OpenRC script.
SELINUX_SRC = selinux/cgplace.te selinux/cgplace.if selinux/cgplace.fc selinux/README
install-selinux:
	install -d $(DESTDIR)$(DATADIR)/cgplace/selinux
	install -m 0644 $(SELINUX_SRC) $(DESTDIR)$(DATADIR)/cgplace/selinux/

uninstall-selinux:
	rm -f $(patsubst selinux/%,$(DESTDIR)$(DATADIR)/cgplace/selinux/%,$(SELINUX_SRC))
	-rmdir $(DESTDIR)$(DATADIR)/cgplace/selinux $(DESTDIR)$(DATADIR)/cgplace 2>/dev/null

clean:
	rm -rf $(B)

-include $(DEPS)
