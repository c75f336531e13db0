# Performance benchmark of issue 2 (not a test layer: not in CHECK_LAYERS).
#   make bench [BENCH_ARGS="--runs 30 --warmup 3 --no-callgrind --oracles DIR"]
# Rewrites docs/PERFORMANCE.md; raw samples in $(B)/bench/results.json.
BENCH_ARGS ?=
.PHONY: bench
bench: $(BIN)
	$(Q)scripts/deps.sh bench
	$(Q)bench/run-bench.py $(BIN) --workdir $(B)/bench --out docs/PERFORMANCE.md $(BENCH_ARGS)
