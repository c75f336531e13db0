# tests/cli/cli.mk - Criterion tests of cli/ parts that are not in the library:
# the streaming JSON printer (cli/json-out.c, linked as the CLI's own object)
# against json-c's. The CLI's behaviour is tested by tests/golden (outputs) and
# tests/sandbox. Rules: tests/common/criterion.mk.   make check-cli
$(eval $(call criterion-layer,cli,,$(B)/obj/cli/json-out.o))
