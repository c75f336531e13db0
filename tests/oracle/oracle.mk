# tests/oracle/oracle.mk - conformance over the real-machine dumps in ../shared/oracles.
#   make check-oracle                      run, write $(B)/results/oracle
#   make check-oracle CGPLACE_ORACLES=DIR  use another oracle directory
# The oracle data is read in place (never copied here); tarballs are unpacked once
# into $(B)/oracle/.  Without the directory every oracle test is skipped.
CHECK_LAYERS += oracle
ORACLE_DIR := $(if $(CGPLACE_ORACLES),$(CGPLACE_ORACLES),$(CURDIR)/../shared/oracles)

.PHONY: check-oracle
check-oracle: $(BIN)
	@mkdir -p $(B)/results $(B)/oracle
	@python3 tests/oracle/run.py --bin $(BIN) --oracles "$(ORACLE_DIR)" \
	    --work $(B)/oracle --results $(B)/results/oracle
