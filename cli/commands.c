/* The dispatch table: every verb with its usage, its options and what it
 * needs read before it runs (cli_prologue does the reading). */
#include "cli.h"

#include <stddef.h>

#define DEFAULT_POLICY "/etc/cgplace/policy.conf"
#define ARG(field) offsetof(struct cli, args.field)
#define OPT_POLICY(help) { "policy", 'p', CLI_OPT_VALUE, ARG(policy), "POLICY", help }

static const struct cli_opt no_opts[] = { CLI_OPT_END };

static const struct cli_opt nodeinfo_opts[] = {
    { "virsh", 0, CLI_OPT_FLAG, ARG(virsh), NULL,
      "libvirt's meaning: sockets and cores per NUMA cell, 0 MHz when unknown" },
    CLI_OPT_END,
};

static const struct cli_opt freecell_opts[] = {
    { "all", 'a', CLI_OPT_FLAG, ARG(all), NULL, "every online cell, then the total" },
    { "cellno", 'c', CLI_OPT_VALUE, ARG(cellno), "CELL", "the cell (the same as the CELL argument)" },
    CLI_OPT_END,
};

static const struct cli_opt suggest_opts[] = {
    { "vcpus", 'n', CLI_OPT_VALUE, ARG(vcpus), "N", "the new guest's vCPUs (required)" },
    { "memory", 'm', CLI_OPT_VALUE, ARG(memory), "SIZE", "its memory, with a unit: 512M, 4G (required)" },
    { "memory-nodes", 0, CLI_OPT_VALUE, ARG(memory_nodes), "LIST", "its memory is bound to these nodes" },
    OPT_POLICY("place it around the guests of this policy"),
    { "libvirt", 0, CLI_OPT_FLAG, ARG(libvirt), NULL, "only the libvirt <vcpu>/<numatune> snippet" },
    CLI_OPT_END,
};

static const struct cli_opt guests_opts[] = {
    OPT_POLICY("the policy guest each one matches, and whether it complies"),
    { "no-qmp", 0, CLI_OPT_FLAG, ARG(no_qmp), NULL, "never ask QMP for thread ids" },
    CLI_OPT_END,
};

static const struct cli_opt policy_opts[] = {
    OPT_POLICY("the policy file (the same as the POLICY argument)"),
    CLI_OPT_END,
};

static const struct cli_opt verify_opts[] = {
    OPT_POLICY("the policy file (the same as the POLICY argument)"),
    { "format", 0, CLI_OPT_VALUE, ARG(format), "FORMAT", "text (default), json (as --json) or prometheus" },
    { "output", 'o', CLI_OPT_VALUE, ARG(output), "FILE", "write to FILE, replaced atomically (temp + rename)" },
    CLI_OPT_END,
};

static const struct cli_opt vcpuinfo_opts[] = {
    { "all", 'a', CLI_OPT_FLAG, ARG(all), NULL, "the emulator and I/O threads too" },
    CLI_OPT_END,
};

#define OPT_PERSIST { "persist", 0, CLI_OPT_FLAG, ARG(persist), NULL, "also write the change into the -p policy" }
static const struct cli_opt pin_opts[] = {
    OPT_POLICY("the guest's block, the host's reserved CPUs and cgroup parent"),
    OPT_PERSIST,
    CLI_OPT_END,
};

static const struct cli_opt numatune_opts[] = {
    { "nodeset", 0, CLI_OPT_VALUE, ARG(nodeset), "LIST", "move the guest's memory to these nodes" },
    { "mode", 0, CLI_OPT_VALUE, ARG(mode), "MODE", "strict (default) or restrictive" },
    OPT_POLICY("the guest's block, the host's reserved CPUs and cgroup parent"),
    OPT_PERSIST,
    CLI_OPT_END,
};

static const struct cli_opt exec_opts[] = {
    OPT_POLICY("the policy holding GUEST's block"),
    CLI_OPT_END,
};

static const struct cli_opt emit_opts[] = {
    { "format", 'f', CLI_OPT_VALUE, ARG(emit_format), "FORMAT", "libvirt, qemu or xl (required)" },
    OPT_POLICY("the policy holding GUEST's block"),
    CLI_OPT_END,
};

static const struct cli_opt watch_opts[] = {
    OPT_POLICY("the policy file (the same as the POLICY argument)"),
    { "interval", 0, CLI_OPT_VALUE, ARG(interval), "SECONDS", "full verify-and-repair pass every SECONDS (default 60)" },
    { "polling", 0, CLI_OPT_FLAG, ARG(polling), NULL, "poll /proc instead of the proc connector" },
    { "metrics", 0, CLI_OPT_VALUE, ARG(output), "FILE",
      "after every pass, verify's Prometheus metrics into FILE (replaced atomically)" },
    CLI_OPT_END,
};

/* The host alone; the sandbox once it is read. */
#define HOST_ONLY { .topology = true }
/* A policy operand, compiled knowing which of its guests run. */
#define POLICY_MARK { .policy = CLI_POLICY_ARG, .policy_default = DEFAULT_POLICY, \
                      .guests = CLI_GUESTS_MARK, .json_warnings = true }
/* A policy operand and the running guests, found with QMP where thread
 * names are missing: what the engine takes; libvirt connected before the
 * sandbox when libvirt's guests are in the policy. */
#define POLICY_KEEP { .policy = CLI_POLICY_ARG, .policy_default = DEFAULT_POLICY, \
                      .guests = CLI_GUESTS_KEEP, .discover = CGP_DISCOVER_QMP, .json_warnings = true, \
                      .libvirt = true }

/* Runtime tuning of one guest: -p optional, the guests with QMP, libvirt
 * connected when the guest is libvirt's. */
#define RUNTIME { .policy = CLI_POLICY_OPTION, .topology = true, .guests = CLI_GUESTS_KEEP, \
                  .discover = CGP_DISCOVER_QMP, .libvirt = true, .derive = derive_runtime }

const struct command cli_commands[] = {
    { "nodeinfo", cmd_nodeinfo, NULL, "[--virsh]", "host summary (like virsh nodeinfo)", nodeinfo_opts, 0, HOST_ONLY },
    /* the sandbox after the XML: its first use dlopen()s libxml2 */
    { "capabilities", cmd_capabilities, NULL, "", "host topology as libvirt capabilities XML", no_opts, 0,
      { .topology = true, .sandbox = CLI_SANDBOX_VERB } },
    { "freecell", cmd_freecell, prep_freecell, "[CELL] [--all]", "free memory of one cell or of every cell",
      freecell_opts, 1, HOST_ONLY },
    { "topology", cmd_topology, NULL, "", "every NUMA node: kind, CPUs, memory, distances, HMAT, tiers", no_opts,
      0, HOST_ONLY },
    { "suggest", cmd_suggest, prep_suggest, "--vcpus N --memory SIZE [-p POLICY] [--libvirt]",
      "best-fit cpuset and nodeset for a new guest", suggest_opts, 0,
      { .policy = CLI_POLICY_OPTION, .topology = true, .guests = CLI_GUESTS_MARK } },
    { "check", cmd_check, NULL, "POLICY", "parse and validate a policy against this host", policy_opts, 1,
      POLICY_MARK },
    { "plan", cmd_plan, prep_plan, "POLICY", "the cgroup writes apply would make", policy_opts, 1, POLICY_KEEP },
    /* the sandbox after the scan: QMP needs AF_UNIX sockets */
    { "guests", cmd_guests, prep_guests, "[-p POLICY] [--no-qmp]", "running QEMU guests and the policy guest each matches",
      guests_opts, 0, { .policy = CLI_POLICY_OPTION, .guests = CLI_GUESTS_KEEP, .discover = CGP_DISCOVER_QMP } },
    { "apply", cmd_apply, NULL, "POLICY", "enforce the policy on the running guests", policy_opts, 1, POLICY_KEEP },
    { "verify", cmd_verify, prep_verify, "POLICY [--format text|json|prometheus] [-o FILE]",
      "drift audit of every guest thread (exit 3 on drift)", verify_opts, 1, POLICY_KEEP },
    /* fork + exec before the sandbox, which the verb installs once CMD runs */
    { "exec", cmd_exec, prep_exec, "[-p POLICY] GUEST -- CMD...",
      "start CMD (QEMU) inside the guest's placement and memory policy", exec_opts, 1 << 20,
      { .policy = CLI_POLICY_OPTION, .policy_default = DEFAULT_POLICY, .guests = CLI_GUESTS_MARK,
        .sandbox = CLI_SANDBOX_VERB } },
    /* the daemon: its sockets before the sandbox, which the verb installs */
    { "watch", cmd_watch, prep_watch, "[POLICY] [--interval SECONDS] [--polling] [--metrics FILE]",
      "daemon: place guests as they start, keep them placed", watch_opts, 1,
      { .policy = CLI_POLICY_ARG, .policy_default = DEFAULT_POLICY, .guests = CLI_GUESTS_MARK,
        .sandbox = CLI_SANDBOX_VERB, .libvirt = true, .json_warnings = true } },
    /* runtime tuning of one running guest: the engine with a placement made
     * for it (derive_runtime), after the scan and before the sandbox */
    { "vcpuinfo", cmd_vcpuinfo, prep_vcpuinfo, "GUEST [--all]", "where each vCPU runs now (like virsh vcpuinfo)",
      vcpuinfo_opts, 1, { .guests = CLI_GUESTS_KEEP, .discover = CGP_DISCOVER_QMP, .derive = derive_guest } },
    { "vcpupin", cmd_vcpupin, prep_vcpupin, "GUEST [VCPU CPULIST] [-p POLICY [--persist]]",
      "show, or change live, the CPUs of each vCPU", pin_opts, 3, RUNTIME },
    { "emulatorpin", cmd_vcpupin, prep_vcpupin, "GUEST [CPULIST] [-p POLICY [--persist]]",
      "show, or change live, the emulator threads' CPUs", pin_opts, 2, RUNTIME },
    { "iothreadpin", cmd_vcpupin, prep_vcpupin, "GUEST [ID CPULIST] [-p POLICY [--persist]]",
      "show, or change live, an I/O thread's CPUs", pin_opts, 3, RUNTIME },
    { "numatune", cmd_numatune, prep_numatune, "GUEST [--nodeset LIST] [--mode MODE] [-p POLICY [--persist]]",
      "show, or change live, the guest's memory nodes (pages move)", numatune_opts, 1, RUNTIME },
    /* other tools' formats: libxml2 loaded, then the sandbox, in the verb */
    { "emit", cmd_emit, prep_emit, "--format libvirt|qemu|xl GUEST [-p POLICY]",
      "the guest's placement as libvirt XML, QEMU options or xl.cfg lines", emit_opts, 1,
      { .policy = CLI_POLICY_OPTION, .policy_default = DEFAULT_POLICY, .guests = CLI_GUESTS_MARK,
        .json_warnings = true, .sandbox = CLI_SANDBOX_VERB } },
    { "import-libvirt", cmd_import_libvirt, prep_import_libvirt, "DOMAIN.xml...",
      "policy blocks (one per domain, match uuid) from libvirt domains' placement", no_opts, 1 << 20,
      { .sandbox = CLI_SANDBOX_VERB } },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, { 0 } },
};
