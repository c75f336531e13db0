# Apply benchmark of issue 5 (not a test layer: not in CHECK_LAYERS). One boot of the asym
# test VM (tests/vm/run-vm.sh): 50 stand-in guests x 4 vCPUs placed by `cgplace apply`, a shell
# script and libcgroup's cgconfigparser + cgclassify.
#   make bench-apply [BENCH_APPLY_ARGS="--profile --budget 165 --runs 5"]
#   (--profile: a second boot with apply under strace; --only-profile: that boot alone)
# Rewrites the <!-- BEGIN apply --> section of docs/PERFORMANCE.md; raw results in
# $(B)/bench-apply/vm-results/bench-apply.json. Needs qemu-system-x86, busybox-static,
# cgroup-tools and strace (for --profile) on the host.
BENCH_APPLY_ARGS ?=
BENCH_APPLY_FAKE := $(B)/bench-apply/fakeqemu

# static: fewer mapped pages to migrate per guest move, no loader work over 9p in the VM
$(BENCH_APPLY_FAKE): bench/apply/fakeqemu.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -static -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -o $@ $<

$(B)/bench-apply/syscost: bench/apply/syscost.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

.PHONY: bench-apply
bench-apply: $(BIN) $(BENCH_APPLY_FAKE) $(B)/bench-apply/syscost
	$(Q)scripts/deps.sh bench
	$(Q)bench/apply/run.py --build $(B) --out docs/PERFORMANCE.md $(BENCH_APPLY_ARGS)
