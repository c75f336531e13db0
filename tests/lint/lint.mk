# Layer "lint": every library and CLI source through clang -fsyntax-only with the
# project's warnings. Why a second compiler: gcc accepts a goto that jumps past
# the initialisation of a __attribute__((cleanup)) variable (the cleanup then
# frees garbage); clang refuses it. A deliberately bad file proves the check bites.
CHECK_LAYERS += lint
.PHONY: check-lint
check-lint:
	@tests/lint/run.sh $(B) $(LIB_SRCS) $(CLI_SRCS)
