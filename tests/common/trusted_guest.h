/* Hand-built guests for unit tests that compile with running processes. */
#ifndef CGP_TEST_TRUSTED_GUEST_H
#define CGP_TEST_TRUSTED_GUEST_H

#include <sys/stat.h>

/* Designated initializers that make a hand-built struct cgp_guest a guest
 * (cgp_guest_trusted): the root-owned /usr/bin/qemu-system-x86_64 in a
 * root-owned directory, run by root (zeroed uids are root's). */
#define CGP_TEST_TRUSTED .exe = "/usr/bin/qemu-system-x86_64", .exe_mode = S_IFREG | 0755, .exe_dir_mode = S_IFDIR | 0755

#endif
