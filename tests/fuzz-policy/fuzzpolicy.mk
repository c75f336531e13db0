# tests/fuzz-policy/fuzzpolicy.mk - libFuzzer target for the policy parser
# (and compiler, over the asym fixture host). clang, ASan+UBSan, sources
# compiled directly.
#   make check-fuzzpolicy [FUZZPOLICY_SECONDS=N]   (default FUZZ_SECONDS or 20)
B ?= build
CHECK_LAYERS += fuzzpolicy
FUZZPOLICY_CC      ?= clang
FUZZPOLICY_SECONDS ?= $(or $(FUZZ_SECONDS),20)
FUZZPOLICY_BIN     := $(B)/fuzz-policy/fuzz_policy
FUZZPOLICY_FX      := $(B)/fuzz-policy/fixtures
FUZZPOLICY_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                      -fno-sanitize-recover=undefined -std=c11 -Wall -Wextra -D_GNU_SOURCE \
                      -Iinclude -Ilib -Itopology -DCGP_VERSION=\"fuzz\"

$(FUZZPOLICY_BIN): tests/fuzz-policy/fuzz_policy.c $(LIB_SRCS) \
    $(wildcard include/*.h lib/*.h topology/*.h parsers/*.h policy/*.h cgctl/*.h guests/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $@")
	-$(Q)$(FUZZPOLICY_CC) $(FUZZPOLICY_CFLAGS) $(PKG_CFLAGS) -o $@ tests/fuzz-policy/fuzz_policy.c \
	    $(LIB_SRCS) $(PKG_LIBS)

.PHONY: check-fuzzpolicy
check-fuzzpolicy: $(FUZZPOLICY_BIN)
	@mkdir -p $(FUZZPOLICY_FX)
	$(Q)python3 tests/fixtures/mkfixtures.py $(FUZZPOLICY_FX) asym >/dev/null
	$(Q)tests/fuzz-policy/run.sh $(B) $(FUZZPOLICY_SECONDS) $(FUZZPOLICY_BIN) $(FUZZPOLICY_FX)/asym
