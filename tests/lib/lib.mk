# tests/lib/lib.mk - Criterion tests of lib/: bitmaps (libvirt's virbitmaptest
# cases and cgplace's extensions), the file readers, integer parsing, the
# context. The rules are tests/common/criterion.mk's.   make check-lib
$(eval $(call criterion-layer,lib))
