/* Internal: a libvirt domain's placement elements as read from its XML
 * (parsers/libvirt-xml.c); policy/import.c turns them into a policy block. */
#ifndef CGP_LIBVIRT_XML_H
#define CGP_LIBVIRT_XML_H

#include "internal.h"
#include "cgplace_interop.h"

struct lv_pin {
    unsigned id;            /* vCPU index, or libvirt's I/O thread number */
    unsigned line;
    cgp_bitmap *cpus;
};

struct lv_cell {
    unsigned id, line;
    cgp_bitmap *vcpus;      /* <cell cpus=> */
    uint64_t memory_kib;
    cgp_bitmap *nodes;      /* its <memnode nodeset=>, NULL: none */
    int mode;               /* its <memnode mode=>, -1: none */
};

struct lv_domain {
    char *name, *uuid;      /* as written (uuid: lower case, 8-4-4-4-12) */
    unsigned vcpus;         /* <vcpu> (1 without it) */
    bool vcpu_auto;         /* <vcpu placement='auto'> */
    cgp_bitmap *cpuset;     /* <vcpu cpuset=>, NULL: none */
    uint64_t memory_kib;    /* <memory>, 0: none */
    size_t n_vcpupins, n_iopins, n_cells;
    struct lv_pin *vcpupins, *iopins;
    cgp_bitmap *emulatorpin;
    bool numatune;          /* <numatune><memory> given */
    int mode;               /* its mode (enum cgp_mem_mode), strict by default */
    bool nodes_auto;        /* its placement='auto' (or the vCPUs' without a nodeset) */
    cgp_bitmap *nodeset;    /* its nodeset=, NULL: none */
    struct lv_cell *cells;  /* <cpu><numa><cell>, by id */
};

/* Parse len bytes of domain XML into *d (cleared first; lv_domain_clear
 * frees it, also after a failure). 0; -EINVAL with *err filled; -EFBIG;
 * -ELIBACC; -ENOMEM. */
int lv_parse(const char *buf, size_t len, struct lv_domain *d, struct cgp_xml_error *err);
void lv_domain_clear(struct lv_domain *d);

#endif
