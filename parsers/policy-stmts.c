/* The policy's host { } and guest NAME { } statements (spec §3), read by
 * the parser in policy-parser.c; and freeing what they build. */
#include "policy-parse.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static void pin_clear(struct pol_pin *pn)
{
    cgp_bitmap_free(pn->vcpus);
    cgp_bitmap_free(pn->cpus);
    free(pn->id);
}

void pol_guest_clear(struct pol_guest *g)
{
    free(g->name);
    for (size_t i = 0; i < g->n_matches; i++)
        free(g->matches[i].value);
    free(g->matches);
    cgp_bitmap_free(g->cpus);
    cgp_bitmap_free(g->nodes);
    for (size_t i = 0; i < g->n_vcpupins; i++)
        pin_clear(&g->vcpupins[i]);
    free(g->vcpupins);
    for (size_t i = 0; i < g->n_iopins; i++)
        pin_clear(&g->iopins[i]);
    free(g->iopins);
    for (size_t i = 0; i < g->n_cells; i++) {
        cgp_bitmap_free(g->cells[i].vcpus);
        cgp_bitmap_free(g->cells[i].nodes);
    }
    free(g->cells);
    cgp_bitmap_free(g->emulatorpin);
    memset(g, 0, sizeof *g);
}

/* ------------------------------------------------------------------ */
/* host { }                                                             */
/* ------------------------------------------------------------------ */

/* KEYWORD WORD;  where WORD is words[k] (NULL-terminated): k into *field,
 * once per file (a second one is a duplicate). expect and form are the
 * error texts: what may follow the keyword, and the statement's shape. */
static bool choice_stmt(struct parser *ps, struct pol_loc loc, const char *kw, const char *const *words, int *field,
                        struct pol_loc *field_loc, const char *expect, const char *form)
{
    ps_advance(ps);
    int k = 0;
    while (words[k] && !ps_is_word(ps, words[k]))
        k++;
    if (!words[k])
        return ps_fail(ps, expect);
    if (ps_once(ps, *field >= 0, &loc, kw, field_loc)) {
        *field = k;
        *field_loc = loc;
    }
    ps_advance(ps);
    return ps_end_stmt(ps, form);
}

void pol_words_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ------------------------------------------------------------------ */
/* who counts as a guest: qemu-binaries, guest-users, qmp-timeout       */
/* ------------------------------------------------------------------ */

/* KEYWORD VALUE...;  one or more values into *v (given once). */
static bool words_stmt(struct parser *ps, struct pol_loc loc, const char *kw, char ***v, size_t *n,
                       struct pol_loc *first, bool (*valid)(const char *), const char *what, const char *form)
{
    ps_advance(ps);
    char **w = NULL;
    size_t k = 0, cap = 0;
    bool ok = true;
    while (ok && ps_is_value(ps)) {
        if (!valid(ps->tok.text)) {
            ERR(ps, &ps->tok.loc, "expected %s, got '%s'", what, ps->tok.text);
            ok = false;
        } else if (!CGP_GROW(w, k, cap)) {
            ps->err = -ENOMEM;
            ok = false;
        } else {
            w[k++] = CGP_STEAL(ps->tok.text);
            ps_advance(ps);
        }
    }
    if (ok && !k) {
        pol_words_free(w, k);
        return ps_fail(ps, what);
    }
    if (!ok) {
        pol_words_free(w, k);
        ps_sync_stmt(ps);
        return false;
    }
    if (ps_once(ps, *v != NULL, &loc, kw, first)) {
        *v = w;
        *n = k;
        *first = loc;
    } else {
        pol_words_free(w, k);
    }
    return ps_end_stmt(ps, form);
}

static bool abs_glob(const char *s)
{
    return s[0] == '/' && strlen(s) < 4096;
}

/* A user name as useradd takes it, or a uid. */
static bool user_word(const char *s)
{
    size_t n = strlen(s);
    bool ok = n > 0 && n <= 32 && s[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.' ||
             (s[i] == '$' && i == n - 1);
    return ok;
}

/* DURATION: digits with "ms" or "s"; 1 ms to 60 s. */
static bool parse_duration_ms(const char *s, unsigned *out)
{
    unsigned long v = 0;
    const char *c = s;
    for (; *c >= '0' && *c <= '9' && v <= 60000; c++)
        v = v * 10 + (unsigned long)(*c - '0');
    if (c == s)
        return false;
    if (!strcmp(c, "s"))
        v *= 1000;
    else if (strcmp(c, "ms"))
        return false;
    if (v == 0 || v > 60000)
        return false;
    *out = (unsigned)v;
    return true;
}

static int trust_stmt(struct parser *ps, struct pol_host *h, struct pol_loc loc)
{
    if (ps_is_word(ps, "qemu-binaries"))
        return words_stmt(ps, loc, "qemu-binaries", &h->qemu_binaries, &h->n_qemu_binaries,
                          &h->qemu_binaries_loc, abs_glob, "absolute paths or globs of QEMU executables",
                          "'qemu-binaries GLOB...'");
    if (ps_is_word(ps, "guest-users"))
        return words_stmt(ps, loc, "guest-users", &h->guest_users, &h->n_guest_users, &h->guest_users_loc,
                          user_word, "user names or uids", "'guest-users USER...'");
    if (ps_is_word(ps, "qmp-timeout")) {
        ps_advance(ps);
        unsigned ms;
        if (ps->tok.kind != POL_TOK_WORD)
            return ps_fail(ps, "a duration after 'qmp-timeout'");
        if (!parse_duration_ms(ps->tok.text, &ms)) {
            ERR(ps, &ps->tok.loc, "expected a duration from 1ms to 60s ('500ms', '2s'), got '%s'", ps->tok.text);
            ps_sync_stmt(ps);
            return false;
        }
        if (ps_once(ps, h->qmp_timeout_ms != 0, &loc, "qmp-timeout", &h->qmp_timeout_loc)) {
            h->qmp_timeout_ms = ms;
            h->qmp_timeout_loc = loc;
        }
        ps_advance(ps);
        return ps_end_stmt(ps, "'qmp-timeout DURATION'");
    }
    return -1;
}

static bool host_stmt(struct parser *ps)
{
    struct pol_host *h = &ps->p->host;
    struct pol_loc loc = ps->tok.loc;
    if (ps_is_word(ps, "reserve")) {
        ps_advance(ps);
        if (ps_is_word(ps, "cpus")) {
            ps_advance(ps);
            cgp_bitmap *b CGP_AUTOBITMAP = NULL;
            if (!ps_take_list(ps, "a CPU list", &b, NULL))
                return false;
            if (ps_once(ps, h->reserve_cpus != NULL, &loc, "reserve cpus", &h->reserve_cpus_loc)) {
                h->reserve_cpus = CGP_STEAL(b);
                h->reserve_cpus_loc = loc;
            }
            return ps_end_stmt(ps, "'reserve cpus LIST'");
        }
        if (ps_is_word(ps, "memory")) {
            ps_advance(ps);
            uint64_t v;
            if (!ps_take_size(ps, "a memory size", &v))
                return false;
            if (ps_once(ps, h->has_reserve_mem, &loc, "reserve memory", &h->reserve_mem_loc)) {
                h->has_reserve_mem = true;
                h->reserve_mem_kib = v;
                h->reserve_mem_loc = loc;
            }
            return ps_end_stmt(ps, "'reserve memory SIZE'");
        }
        return ps_fail(ps, "'cpus' or 'memory' after 'reserve'");
    }
    if (ps_is_word(ps, "parent")) {
        ps_advance(ps);
        if (!ps_is_value(ps))
            return ps_fail(ps, "a cgroup name after 'parent'");
        /* PARENT is a relative cgroup path: NAME components joined by '/' */
        bool ok = ps->tok.len > 0 && ps->tok.len < 256;
        char *copy CGP_AUTOFREE = strdup(ps->tok.text);
        if (!copy) {
            ps->err = -ENOMEM;
            return false;
        }
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); ok && c; c = strtok_r(NULL, "/", &save))
            ok = pol_valid_name(c) && !pol_interface_prefix(c);
        if (ok)
            ok = ps->tok.text[0] != '/' && ps->tok.text[ps->tok.len - 1] != '/' &&
                 !strstr(ps->tok.text, "//");
        if (!ok) {
            ERR(ps, &ps->tok.loc,
                "invalid parent '%s': expected a relative cgroup path of names made of "
                "[A-Za-z0-9_.-], not starting with '.' or '-' nor named like a cgroup interface file "
                "(cgroup.*, cpuset.*, memory.* ...)", ps->tok.text);
            ps_sync_stmt(ps);
            return false;
        }
        if (ps_once(ps, h->parent != NULL, &loc, "parent", &h->parent_loc)) {
            h->parent = CGP_STEAL(ps->tok.text);
            h->parent_loc = loc;
        }
        ps_advance(ps);
        return ps_end_stmt(ps, "'parent NAME'");
    }
    if (ps_is_word(ps, "unmanaged")) {
        static const char *const words[] = { "ignore", "warn", "deny", "deny-all", NULL };
        return choice_stmt(ps, loc, "unmanaged", words, &h->unmanaged, &h->unmanaged_loc, "'ignore', 'warn', 'deny' or 'deny-all' after 'unmanaged'", "'unmanaged ignore|warn|deny|deny-all'");
    }
    if (ps_is_word(ps, "oversubscribe")) {
        static const char *const words[] = { "warn", "deny", NULL };
        return choice_stmt(ps, loc, "oversubscribe", words, &h->oversubscribe, &h->oversubscribe_loc, "'warn' or 'deny' after 'oversubscribe'", "'oversubscribe MODE'");
    }
    if (ps_is_word(ps, "backend")) {
        static const char *const words[] = { "auto", "cgroupfs", "systemd", NULL };
        return choice_stmt(ps, loc, "backend", words, &h->backend, &h->backend_loc, "'auto', 'cgroupfs' or 'systemd' after 'backend'", "'backend auto|cgroupfs|systemd'");
    }
    if (ps_is_word(ps, "confine")) {
        ps_advance(ps);
        if (!ps_is_word(ps, "host"))
            return ps_fail(ps, "'host' after 'confine'");
        if (ps_once(ps, h->confine_host, &loc, "confine host", &h->confine_loc)) {
            h->confine_host = true;
            h->confine_loc = loc;
        }
        ps_advance(ps);
        return ps_end_stmt(ps, "'confine host'");
    }
    if (ps_is_word(ps, "slice")) {
        ps_advance(ps);
        if (!ps_is_value(ps))
            return ps_fail(ps, "a slice unit name after 'slice'");
        /* NAME.slice, NAME made of [A-Za-z0-9_.-] plus systemd's '-' nesting */
        const char *v = ps->tok.text;
        size_t n = ps->tok.len;
        bool ok = n > 6 && n < 200 && !strcmp(v + n - 6, ".slice") && v[0] != '-' && v[n - 7] != '-' &&
                  !strstr(v, "--") && strcmp(v, "-.slice");
        for (size_t i = 0; ok && i < n - 6; i++)
            ok = isalnum((unsigned char)v[i]) || v[i] == '_' || v[i] == '.' || v[i] == '-';
        if (!ok) {
            ERR(ps, &ps->tok.loc, "invalid slice '%s': expected NAME.slice, NAME made of [A-Za-z0-9_.-] "
                "('-' nests slices: a-b.slice is inside a.slice)", v);
            ps_sync_stmt(ps);
            return false;
        }
        if (ps_once(ps, h->slice != NULL, &loc, "slice", &h->slice_loc)) {
            h->slice = CGP_STEAL(ps->tok.text);
            h->slice_loc = loc;
        }
        ps_advance(ps);
        return ps_end_stmt(ps, "'slice NAME.slice'");
    }
    if (ps_is_word(ps, "libvirt")) {
        static const char *const words[] = { "live", "persist", NULL };
        return choice_stmt(ps, loc, "libvirt", words, &h->libvirt, &h->libvirt_loc, "'live' or 'persist' after 'libvirt'", "'libvirt live' or 'libvirt persist'");
    }
    if (ps_is_word(ps, "machined")) {
        static const char *const words[] = { "no", "yes", NULL };
        return choice_stmt(ps, loc, "machined", words, &h->machined, &h->machined_loc, "'yes' or 'no' after 'machined'", "'machined yes' or 'machined no'");
    }
    if (ps_is_word(ps, "overcommit")) {
        ps_advance(ps);
        if (ps->tok.kind != POL_TOK_WORD)
            return ps_fail(ps, "a number after 'overcommit'");
        /* NUMBER: digits with at most 3 decimals, 0 < n <= 1000 */
        const char *s = ps->tok.text;
        unsigned long ip = 0, frac = 0;
        int nfrac = 0;
        bool ok = *s >= '0' && *s <= '9';
        for (; ok && *s >= '0' && *s <= '9'; s++)
            ok = (ip = ip * 10 + (unsigned long)(*s - '0')) <= 1000;
        if (ok && *s == '.') {
            s++;
            ok = *s >= '0' && *s <= '9';
            for (; ok && *s >= '0' && *s <= '9'; s++) {
                ok = ++nfrac <= 3;
                if (ok)
                    frac = frac * 10 + (unsigned long)(*s - '0');
            }
        }
        for (int i = nfrac; i < 3; i++)
            frac *= 10;
        unsigned long milli = ip * 1000 + frac;
        if (!ok || *s || milli == 0 || milli > 1000000) {
            ERR(ps, &ps->tok.loc,
                "expected a number of vCPUs per host CPU greater than 0 and at most 1000 "
                "(up to 3 decimals), got '%s'", ps->tok.text);
            ps_sync_stmt(ps);
            return false;
        }
        if (ps_once(ps, h->overcommit_milli != 0, &loc, "overcommit", &h->overcommit_loc)) {
            h->overcommit_milli = (unsigned)milli;
            h->overcommit_loc = loc;
        }
        ps_advance(ps);
        return ps_end_stmt(ps, "'overcommit NUMBER'");
    }
    int t = trust_stmt(ps, h, loc);
    if (t >= 0)
        return t;
    return ps_fail(ps, "a host statement (reserve, parent, unmanaged, overcommit, oversubscribe, backend, slice, confine, "
                   "libvirt, machined, qemu-binaries, guest-users or qmp-timeout)");
}

/* ------------------------------------------------------------------ */
/* guest NAME { }                                                       */
/* ------------------------------------------------------------------ */

static bool cell_block(struct parser *ps, struct pol_guest *g)
{
    struct pol_loc loc = ps->tok.loc;
    ps_advance(ps);
    unsigned long idx;
    if (!ps_take_uint(ps, "a cell number", 0, CGP_POLICY_MAX_VCPUS, &idx, NULL))
        return false;
    if (ps->tok.kind != POL_TOK_LBRACE)
        return ps_fail(ps, "'{' after 'cell N'");
    const struct pol_cell *prev = NULL;
    for (size_t i = 0; i < g->n_cells && !prev; i++)
        if (g->cells[i].index == idx)
            prev = &g->cells[i];
    char w[32];
    snprintf(w, sizeof w, "cell %lu", idx);
    if (!ps_once(ps, prev != NULL, &loc, w, prev ? &prev->loc : NULL)) {
        ps_sync_stmt(ps);
        return false;
    }
    if (!CGP_GROW(g->cells, g->n_cells, g->cap_cells)) {
        ps->err = -ENOMEM;
        return false;
    }
    struct pol_cell *c = &g->cells[g->n_cells++];
    *c = (struct pol_cell){ .index = (unsigned)idx, .loc = loc, .mode = -1 };
    ps_advance(ps);
    while (!ps->err && !ps->stop && ps->tok.kind != POL_TOK_RBRACE && ps->tok.kind != POL_TOK_EOF) {
        struct pol_loc sl = ps->tok.loc;
        if (ps_is_word(ps, "vcpus")) {
            ps_advance(ps);
            cgp_bitmap *b CGP_AUTOBITMAP = NULL;
            struct pol_loc bl;
            if (!ps_take_list(ps, "a vCPU list", &b, &bl))
                continue;
            if (ps_once(ps, c->vcpus != NULL, &sl, "vcpus", &c->vcpus_loc)) {
                c->vcpus = CGP_STEAL(b);
                c->vcpus_loc = bl;
            }
            ps_end_stmt(ps, "'vcpus LIST'");
        } else if (ps_is_word(ps, "memory")) {
            ps_advance(ps);
            uint64_t v;
            if (!ps_take_size(ps, "a memory size", &v))
                continue;
            if (!ps_is_word(ps, "nodes")) {
                ps_fail(ps, "'nodes LIST' after the cell's memory size");
                continue;
            }
            ps_advance(ps);
            cgp_bitmap *b CGP_AUTOBITMAP = NULL;
            struct pol_loc nl;
            if (!ps_take_list(ps, "a node list", &b, &nl))
                continue;
            int mode = -1;
            if (ps_is_word(ps, "mode")) {
                ps_advance(ps);
                if (!ps_take_mode(ps, &mode))
                    continue;
            }
            if (ps_once(ps, c->has_memory, &sl, "memory", &c->mem_loc)) {
                c->has_memory = true;
                c->memory_kib = v;
                c->nodes = CGP_STEAL(b);
                c->nodes_loc = nl;
                c->mode = mode;
                c->mem_loc = sl;
            }
            ps_end_stmt(ps, "'memory SIZE nodes LIST [mode MODE]'");
        } else {
            ps_fail(ps, "'vcpus' or 'memory' in a cell block");
        }
    }
    if (ps->tok.kind != POL_TOK_RBRACE) {
        if (!ps->stop) {
            char *f CGP_AUTOFREE = ps_loc_str(&loc);
            char what[128];
            snprintf(what, sizeof what, "'}' to close the cell block opened at %s", f ? f : "?");
            ps_expected(ps, what);
        }
        return false;
    }
    ps_advance(ps);
    if (!c->vcpus)
        ERR(ps, &loc, "cell %u has no 'vcpus LIST;'", c->index);
    if (!c->has_memory)
        ERR(ps, &loc, "cell %u has no 'memory SIZE nodes LIST;'", c->index);
    return true;
}

static bool guest_stmt(struct parser *ps, struct pol_guest *g)
{
    struct pol_loc loc = ps->tok.loc;
    if (ps_is_word(ps, "match")) {
        ps_advance(ps);
        static const char *const kinds[] = { "name", "uuid", "pidfile", "qmp", "user" };
        int kind = -1;
        for (int i = 0; i < 5 && ps->tok.kind == POL_TOK_WORD; i++)
            if (!strcmp(ps->tok.text, kinds[i]))
                kind = i;
        if (kind < 0)
            return ps_fail(ps, "'name', 'uuid', 'pidfile', 'qmp' or 'user' after 'match'");
        ps_advance(ps);
        if (!ps_is_value(ps))
            return ps_fail(ps, "a value (a word or a double-quoted string)");
        if (ps->tok.len == 0) {
            ERR(ps, &ps->tok.loc, "empty match value");
            ps_sync_stmt(ps);
            return false;
        }
        if (kind == CGP_MATCH_USER && !user_word(ps->tok.text)) {
            ERR(ps, &ps->tok.loc, "expected a user name or uid after 'match user', got '%s'", ps->tok.text);
            ps_sync_stmt(ps);
            return false;
        }
        if (!CGP_GROW(g->matches, g->n_matches, g->cap_matches)) {
            ps->err = -ENOMEM;
            return false;
        }
        g->matches[g->n_matches++] = (struct pol_match){ (enum cgp_match_kind)kind,
                                                         CGP_STEAL(ps->tok.text), loc };
        ps_advance(ps);
        return ps_end_stmt(ps, "'match KIND VALUE'");
    }
    if (ps_is_word(ps, "vcpus")) {
        ps_advance(ps);
        unsigned long v;
        if (!ps_take_uint(ps, "a vCPU count", 1, CGP_POLICY_MAX_VCPUS, &v, NULL))
            return false;
        if (ps_once(ps, g->vcpus >= 0, &loc, "vcpus", &g->vcpus_loc)) {
            g->vcpus = (long)v;
            g->vcpus_loc = loc;
        }
        return ps_end_stmt(ps, "'vcpus N'");
    }
    if (ps_is_word(ps, "cpus")) {
        ps_advance(ps);
        enum pol_cpus_kind k;
        cgp_bitmap *b CGP_AUTOBITMAP = NULL;
        struct pol_loc al = ps->tok.loc;
        if (ps_is_word(ps, "auto")) {
            k = POL_CPUS_AUTO;
            ps_advance(ps);
        } else if (ps_is_word(ps, "node")) {
            k = POL_CPUS_NODE;
            ps_advance(ps);
            if (!ps_take_list(ps, "a node list after 'cpus node'", &b, &al))
                return false;
        } else {
            k = POL_CPUS_LIST;
            if (!ps_take_list(ps, "a CPU list, 'node LIST' or 'auto'", &b, &al))
                return false;
        }
        if (ps_once(ps, g->cpus_kind != POL_CPUS_UNSET, &loc, "cpus", &g->cpus_loc)) {
            g->cpus_kind = k;
            g->cpus = CGP_STEAL(b);
            g->cpus_loc = loc;
            g->cpus_arg_loc = al;
        }
        return ps_end_stmt(ps, "'cpus ...'");
    }
    if (ps_is_word(ps, "memory")) {
        ps_advance(ps);
        uint64_t v;
        if (!ps_take_size(ps, "a memory size", &v))
            return false;
        enum pol_nodes_kind nk = POL_NODES_UNSET;
        cgp_bitmap *b CGP_AUTOBITMAP = NULL;
        struct pol_loc nl = loc;
        int mode = -1;
        if (ps_is_word(ps, "nodes")) {
            ps_advance(ps);
            nl = ps->tok.loc;
            if (ps_is_word(ps, "auto")) {
                nk = POL_NODES_AUTO;
                ps_advance(ps);
            } else if (ps_is_word(ps, "local")) {
                nk = POL_NODES_LOCAL;
                ps_advance(ps);
            } else {
                nk = POL_NODES_LIST;
                if (!ps_take_list(ps, "a node list, 'auto' or 'local'", &b, &nl))
                    return false;
            }
        }
        if (ps_is_word(ps, "mode")) {
            ps_advance(ps);
            if (!ps_take_mode(ps, &mode))
                return false;
        }
        if (ps->tok.kind != POL_TOK_SEMI) {
            return ps_fail(ps, nk == POL_NODES_UNSET && mode < 0 ? "'nodes', 'mode' or ';' after the memory size"
                            : mode < 0 ? "'mode' or ';' after the memory nodes"
                                       : "';' after the memory mode");
        }
        if (ps_once(ps, g->has_memory, &loc, "memory", &g->mem_loc)) {
            g->has_memory = true;
            g->memory_kib = v;
            g->nodes_kind = nk;
            g->nodes = CGP_STEAL(b);
            g->mode = mode;
            g->mem_loc = loc;
            g->nodes_loc = nl;
        }
        return ps_end_stmt(ps, "'memory ...'");
    }
    if (ps_is_word(ps, "vcpupin") || ps_is_word(ps, "iothreadpin")) {
        bool io = ps->tok.text[0] == 'i';
        ps_advance(ps);
        struct pol_pin pn = { .loc = loc, .arg_loc = ps->tok.loc };
        if (io) {
            if (!ps_is_value(ps))
                return ps_fail(ps, "an I/O thread id after 'iothreadpin'");
            if (!pol_valid_name(ps->tok.text)) {
                ERR(ps, &ps->tok.loc,
                    "invalid I/O thread id '%s': expected 1-64 of [A-Za-z0-9_.-], not starting "
                    "with '.' or '-'", ps->tok.text);
                ps_sync_stmt(ps);
                return false;
            }
            pn.id = CGP_STEAL(ps->tok.text);
            ps_advance(ps);
        } else if (!ps_take_list(ps, "a vCPU list after 'vcpupin'", &pn.vcpus, NULL)) {
            return false;
        }
        pn.cpus_loc = ps->tok.loc;
        if (!ps_take_list(ps, "a CPU list", &pn.cpus, NULL)) {
            pin_clear(&pn);
            return false;
        }
        struct pol_pin **v = io ? &g->iopins : &g->vcpupins;
        size_t *n = io ? &g->n_iopins : &g->n_vcpupins;
        size_t *cap = io ? &g->cap_iopins : &g->cap_vcpupins;
        if (!CGP_GROW(*v, *n, *cap)) {
            pin_clear(&pn);
            ps->err = -ENOMEM;
            return false;
        }
        (*v)[(*n)++] = pn;
        return ps_end_stmt(ps, io ? "'iothreadpin ID LIST'" : "'vcpupin VCPUS LIST'");
    }
    if (ps_is_word(ps, "emulatorpin")) {
        ps_advance(ps);
        cgp_bitmap *b CGP_AUTOBITMAP = NULL;
        if (!ps_take_list(ps, "a CPU list after 'emulatorpin'", &b, NULL))
            return false;
        if (ps_once(ps, g->emulatorpin != NULL, &loc, "emulatorpin", &g->emu_loc)) {
            g->emulatorpin = CGP_STEAL(b);
            g->emu_loc = loc;
        }
        return ps_end_stmt(ps, "'emulatorpin LIST'");
    }
    if (ps_is_word(ps, "cell"))
        return cell_block(ps, g);
    if (ps->tok.kind == POL_TOK_WORD) {
        ERR(ps, &ps->tok.loc,
            "unknown guest statement '%.40s': expected match, vcpus, cpus, memory, vcpupin, "
            "emulatorpin, iothreadpin or cell", ps->tok.text);
        ps_sync_stmt(ps);
        return false;
    }
    return ps_fail(ps, "a guest statement or '}'");
}

/* Parse "{ stmt* }" with the current token at '{'. */
static void block(struct parser *ps, const char *what, const struct pol_loc *open,
                  bool (*stmt)(struct parser *, struct pol_guest *), struct pol_guest *g)
{
    if (ps->tok.kind != POL_TOK_LBRACE) {
        char w[96];
        snprintf(w, sizeof w, "'{' after '%s'", what);
        ps_fail(ps, w);
        return;
    }
    ps_advance(ps);
    while (!ps->err && !ps->stop && ps->tok.kind != POL_TOK_RBRACE && ps->tok.kind != POL_TOK_EOF)
        stmt(ps, g);
    if (ps->tok.kind == POL_TOK_RBRACE) {
        ps_advance(ps);
        return;
    }
    if (!ps->stop && !ps->err) {
        char *f CGP_AUTOFREE = ps_loc_str(open);
        char w[160];
        snprintf(w, sizeof w, "'}' to close the %s block opened at %s", what, f ? f : "?");
        ps_expected(ps, w);
    }
}

static bool host_stmt_g(struct parser *ps, struct pol_guest *g)
{
    (void)g;
    return host_stmt(ps);
}

void ps_host_block(struct parser *ps)
{
    struct pol_loc loc = ps->tok.loc;
    ps_advance(ps);
    block(ps, "host", &loc, host_stmt_g, NULL);
}

void ps_guest_block(struct parser *ps)
{
    struct pol_loc loc = ps->tok.loc;
    ps_advance(ps);
    if (!ps_is_value(ps)) {
        ps_fail(ps, "a guest name after 'guest'");
        return;
    }
    bool name_ok = pol_valid_name(ps->tok.text);
    const char *iface = name_ok ? pol_interface_prefix(ps->tok.text) : NULL;
    if (!name_ok)
        ERR(ps, &ps->tok.loc,
            "invalid guest name '%.70s': expected 1-64 of [A-Za-z0-9_.-], not starting with '.' or "
            "'-' (it becomes a cgroup directory name)", ps->tok.text);
    else if (iface)
        ERR(ps, &ps->tok.loc,
            "invalid guest name '%s': '%s.' starts the names of cgroup interface files (cgroup.*, cpuset.*, "
            "cpu.*, memory.*, io.*, pids.* ...), so its cgroup directory would collide with them", ps->tok.text,
            iface);
    name_ok = name_ok && !iface;
    struct pol_guest g = { .vcpus = -1, .mode = -1, .loc = loc };
    g.name = CGP_STEAL(ps->tok.text);
    ps_advance(ps);
    block(ps, "guest", &loc, guest_stmt, &g);
    cgp_policy *p = ps->p;
    if (!name_ok || ps->err) {
        pol_guest_clear(&g);
        return;
    }
    if (!CGP_GROW(p->guests, p->n_guests, p->cap_guests)) {
        pol_guest_clear(&g);
        ps->err = -ENOMEM;
        return;
    }
    p->guests[p->n_guests++] = g;
}
