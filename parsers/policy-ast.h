/* Internal: the parsed policy (AST) and the diagnostics list. */
#ifndef CGP_POLICY_AST_H
#define CGP_POLICY_AST_H

#include "internal.h"
#include "cgplace_policy.h"

struct pol_loc {
    const char *file;     /* interned in the policy's file list */
    unsigned line, col;
};

struct cgp_diags {
    size_t n, cap, n_errors;
    bool truncated;
    struct cgp_diag *v;   /* file and msg owned */
};

/* Append a diagnostic at loc (loc may be NULL: no location). Returns 0 or
 * -ENOMEM. Errors past CGP_POLICY_MAX_ERRORS are dropped (one "too many
 * errors" entry is added). */
int pol_diag(cgp_diags *d, bool warning, const struct pol_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define pol_error(d, loc, ...) pol_diag((d), false, (loc), __VA_ARGS__)
#define pol_warn(d, loc, ...) pol_diag((d), true, (loc), __VA_ARGS__)
/* True once the error limit is hit (parsing may stop). */
bool pol_diags_full(const cgp_diags *d);

enum pol_cpus_kind { POL_CPUS_UNSET, POL_CPUS_LIST, POL_CPUS_NODE, POL_CPUS_AUTO };
enum pol_nodes_kind { POL_NODES_UNSET, POL_NODES_LIST, POL_NODES_AUTO, POL_NODES_LOCAL };

struct pol_match {
    enum cgp_match_kind kind;
    char *value;
    struct pol_loc loc;
};

struct pol_pin {
    cgp_bitmap *vcpus;    /* for vcpupin; NULL for iothreadpin */
    char *id;             /* for iothreadpin */
    cgp_bitmap *cpus;
    struct pol_loc loc, arg_loc, cpus_loc;
};

struct pol_cell {
    unsigned index;
    struct pol_loc loc;
    cgp_bitmap *vcpus;
    struct pol_loc vcpus_loc;
    bool has_memory;
    uint64_t memory_kib;
    cgp_bitmap *nodes;
    int mode;             /* -1 unset, else enum cgp_mem_mode */
    struct pol_loc mem_loc, nodes_loc;
};

struct pol_guest {
    char *name;
    struct pol_loc loc;
    size_t n_matches, cap_matches;
    struct pol_match *matches;
    long vcpus;           /* -1 unset */
    struct pol_loc vcpus_loc;
    enum pol_cpus_kind cpus_kind;
    cgp_bitmap *cpus;     /* LIST: cpus; NODE: node ids */
    struct pol_loc cpus_loc, cpus_arg_loc;
    bool has_memory;
    uint64_t memory_kib;
    enum pol_nodes_kind nodes_kind;
    cgp_bitmap *nodes;
    int mode;             /* -1 unset */
    struct pol_loc mem_loc, nodes_loc;
    size_t n_vcpupins, n_iopins, n_cells;
    size_t cap_vcpupins, cap_iopins, cap_cells;
    struct pol_pin *vcpupins, *iopins;
    struct pol_cell *cells;
    cgp_bitmap *emulatorpin;
    struct pol_loc emu_loc;
};

/* `unmanaged deny-all`: deny, libvirt's guests counted too */
#define POL_UNMANAGED_DENY_ALL (CGP_UNMANAGED_DENY + 1)

struct pol_host {
    cgp_bitmap *reserve_cpus;
    struct pol_loc reserve_cpus_loc;
    bool has_reserve_mem;
    uint64_t reserve_mem_kib;
    struct pol_loc reserve_mem_loc;
    char *parent;
    struct pol_loc parent_loc;
    int unmanaged;        /* -1 unset, enum cgp_unmanaged, or POL_UNMANAGED_DENY_ALL */
    struct pol_loc unmanaged_loc;
    unsigned overcommit_milli; /* 0 unset */
    struct pol_loc overcommit_loc;
    int oversubscribe;    /* -1 unset, 0 warn, 1 deny */
    struct pol_loc oversubscribe_loc;
    int backend;          /* enum cgp_backend; -1 unset */
    struct pol_loc backend_loc;
    char *slice;          /* NAME.slice */
    struct pol_loc slice_loc;
    bool confine_host;
    struct pol_loc confine_loc;
    int libvirt;          /* -1 unset, 0 live, 1 persist */
    struct pol_loc libvirt_loc;
    int machined;         /* -1 unset, 0 no, 1 yes */
    struct pol_loc machined_loc;    /* who counts as a guest (policy-stmts.c trust_stmt) */
    size_t n_qemu_binaries;
    char **qemu_binaries;     /* NULL: unset (the defaults) */
    struct pol_loc qemu_binaries_loc;
    size_t n_guest_users;
    char **guest_users;       /* NULL: unset (the defaults); given empty is impossible */
    struct pol_loc guest_users_loc;
    unsigned qmp_timeout_ms;  /* 0 unset */
    struct pol_loc qmp_timeout_loc;
};

struct cgp_policy {
    size_t n_files, cap_files;
    char **files;         /* interned file names */
    struct pol_host host;
    size_t n_guests, cap_guests;
    struct pol_guest *guests;
    size_t total_bytes;
    /* every file read, by device and inode: each is read once (a diamond of
     * includes is not re-read; an include cycle is an error) */
    size_t n_read, cap_read;
    struct pol_file_id { dev_t dev; ino_t ino; } *read;
    unsigned flags;       /* CGP_POLICY_* of cgp_policy_parse_file_ex */
};

/* Valid NAME (spec §3): 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
bool pol_valid_name(const char *s);
/* The controller prefix when s reads like a cgroup v2 interface file
 * (cgroup.procs, cpuset.cpus, memory.max: CONTROLLER.FILE), else NULL: such
 * a name cannot be a cgroup directory beside those files. */
const char *pol_interface_prefix(const char *s);

/* Free a list of n words (qemu-binaries, guest-users). */
void pol_words_free(char **v, size_t n);

/* Free a guest's contents. */
void pol_guest_clear(struct pol_guest *g);

#endif
