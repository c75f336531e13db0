# bench/solver.mk - benchmark of the policy compiler and `auto` solver
# (issue 4, "Performance"). Not a test layer: not in CHECK_LAYERS.
#   make bench-solver [BENCH_SOLVER_ARGS="--instances 300 --seed 4 --runs 3 --no-callgrind --quick"]
# Rewrites only the `solver` section of docs/PERFORMANCE.md; raw data in
# $(B)/bench-solver/results.json. Files: bench/solver/.
BENCH_SOLVER_B    := $(B)/bench-solver
BENCH_SOLVER_ARGS ?=

$(BENCH_SOLVER_B)/solvetime: bench/solver/solvetime.c $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WFLAGS) -O2 -g -o $@ $< $(LIBA) $(PKG_LIBS)

$(BENCH_SOLVER_B)/exact: bench/solver/exact.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -o $@ $<

.PHONY: bench-solver
bench-solver: $(BIN) $(BENCH_SOLVER_B)/solvetime $(BENCH_SOLVER_B)/exact
	$(Q)scripts/deps.sh bench
	$(Q)bench/solver/run-solver-bench.py --bin $(BIN) --solvetime $(BENCH_SOLVER_B)/solvetime \
	    --exact $(BENCH_SOLVER_B)/exact --workdir $(BENCH_SOLVER_B) --out docs/PERFORMANCE.md \
	    $(BENCH_SOLVER_ARGS)
