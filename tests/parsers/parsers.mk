# tests/parsers/parsers.mk - Criterion tests of parsers/: the /proc readers
# (cgp_proc_meminfo, declared in topology/topology.h), the policy parser, the
# QEMU command line and QemuOpts, the QMP session parser on recorded
# transcripts. Rules: tests/common/criterion.mk.   make check-parsers
$(eval $(call criterion-layer,parsers,-Itopology))
