# Layer "pkg": the Debian packages (debian/, issue 11 item 8) built from a copy
# of the tree with dpkg-buildpackage, checked with lintian, unpacked into a
# throwaway root and run there (tests/pkg/run.sh says what and why).
CHECK_LAYERS += pkg
.PHONY: check-pkg
check-pkg: all
	@tests/pkg/run.sh $(B)
