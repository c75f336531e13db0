# Layer "install": make install/uninstall into a DESTDIR, then build a program
# against the installed header and library (only exported symbols are usable).
CHECK_LAYERS += install
.PHONY: check-install
check-install: all
	@tests/install/run.sh $(B)
