# Watch benchmark of issue 9 (not a test layer: not in CHECK_LAYERS). One boot of the asym
# test VM: exec-to-placed latency of `cgplace watch` (proc connector) against a `cgplace apply`
# loop at numad's 5-s interval, with system calls per placement; watch's idle CPU time and RSS
# with 50 placed stand-in guests; the re-check of those 50 after an event that changes nothing,
# against an `apply` re-run.
#   make bench-watch [BENCH_WATCH_ARGS="--starts 20 --idle 60"]
# Rewrites the <!-- BEGIN watch --> section of docs/PERFORMANCE.md; raw results in
# $(B)/bench-watch/vm-results/bench-watch.json. Needs qemu-system-x86 and strace.
BENCH_WATCH_ARGS ?=

.PHONY: bench-watch
bench-watch: $(BIN) $(BENCH_APPLY_FAKE)
	$(Q)scripts/deps.sh vm
	$(Q)scripts/deps.sh bench
	$(Q)bench/watch/run.py --build $(B) --out docs/PERFORMANCE.md $(BENCH_WATCH_ARGS)
