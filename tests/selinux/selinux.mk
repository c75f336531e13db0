# Layer "selinux": the SELinux policy module (selinux/) built with Debian's
# selinux-policy-dev, linked with Debian's base policy and checked as a
# policy: allowed and denied accesses, transitions, roles, file contexts
# (tests/selinux/assertions).  Skipped loudly without the tools or the
# base policy (scripts/deps.sh selinux installs the tools).
CHECK_LAYERS += selinux
.PHONY: check-selinux selinux-module
check-selinux:
	$(Q)tests/selinux/run.sh $(B)

# only the module: $(B)/selinux/module/cgplace.pp
selinux-module:
	$(Q)mkdir -p $(B)/selinux/module && cp selinux/cgplace.te selinux/cgplace.if selinux/cgplace.fc $(B)/selinux/module/
	$(Q)$(MAKE) -s -C $(B)/selinux/module -f /usr/share/selinux/devel/Makefile cgplace.pp
