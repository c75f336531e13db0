# tests/policy/policy.mk - golden tests of the policy language (check/plan/
# suggest over fixture hosts) and Criterion unit tests of the compiler/solver.
#   make check-policy
B ?= build
CHECK_LAYERS += policy
POLICY_FIXDIR := $(B)/policy/fixtures
POLICY_UNIT   := $(B)/policy/test_solver

POLICY_UNIT_SRCS := tests/policy/test_solver.c tests/policy/test_placement.c tests/policy/test_props.c

$(POLICY_UNIT): $(POLICY_UNIT_SRCS) tests/policy/policy-test.h include/cgplace_policy.h $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $(POLICY_UNIT_SRCS) $(LIBA) $(LDFLAGS) -lcriterion $(PKG_LIBS)

.PHONY: check-policy policy-fixtures
policy-fixtures:
	@mkdir -p $(POLICY_FIXDIR)
	$(Q)python3 tests/fixtures/mkfixtures.py $(POLICY_FIXDIR) one-node two-socket-smt cpuless-mem \
	    memless-cpu sparse-ids offline-cpu asym big-1024 >/dev/null

check-policy: all $(POLICY_UNIT) policy-fixtures
	@mkdir -p $(B)/results
	$(Q)POLICY_FIXDIR=$(abspath $(POLICY_FIXDIR)) python3 tests/policy/golden.py $(BIN) $(POLICY_FIXDIR) \
	    $(B)/results/policy $(POLICY_UNIT)
