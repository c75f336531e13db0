# tests/topology/topology.mk - Criterion tests of topology/: the sysfs readers
# and the libvirt-equivalent queries (nodeinfo, capabilities XML, cells free
# memory) on small trees each test writes. Rules: tests/common/criterion.mk.
#   make check-topology
$(eval $(call criterion-layer,topology))
