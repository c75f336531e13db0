#!/usr/bin/env python3
"""Conformance tests of cgplace against the real-machine dumps in ../shared/oracles.

Four oracle families (see ../shared/oracles/README.md):
  1. libvirt virhostcpudata  -> `virsh nodeinfo` expected lines
  2. libvirt vircaps2xmldata -> `virsh capabilities` <topology><cells>
  3. hwloc linux dumps       -> expected lstopo .console/.xml and live Debian hwloc 2.9
  4. util-linux lscpu dumps  -> expected lscpu output and live `lscpu --sysroot`

Every comparison is one case (machine x aspect), printed PASS/FAIL/SKIP.
The rule of every case (see Runner.compare):
  * cgplace == oracle                       -> PASS
  * cgplace != oracle, cgplace != our own independent reading of the sysfs tree
                                            -> FAIL (a cgplace bug, reported with what sysfs says)
  * cgplace != oracle, cgplace == our reading, and the difference is one cgplace
    makes on purpose (documented below with the reason, and where possible
    verified against the tree)          -> PASS, the reason is printed
  * otherwise (undocumented difference)     -> FAIL
The independent reading (class Tree) is written from the kernel ABI and the
README's pitfalls, not from cgplace's code or output.

Oracle data is read in place (never copied into the project); the tarballs are
unpacked once into WORK (a cache under $(B)/oracle).
Python 3 standard library only. Running cgplace (a snapshot of the binary, so
a relink of build/ cannot change it mid-run), capability.rng, the PASS/FAIL/SKIP
lines and the counts are tests/golden/harness.py's.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'golden'))
import harness as H  # noqa: E402

# --------------------------------------------------------------------------
# small helpers


def rd(path):
    """Read a sysfs file: strip NUL bytes, newlines and blanks. None if absent."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    return data.replace(b'\0', b'').decode('utf-8', 'replace').strip()


def parse_list(s):
    """CPU/node list '0-3,8', also lscpu's stride form 'a-b:s'. '' -> empty set."""
    out = set()
    if s is None:
        return out
    s = s.strip()
    if not s:
        return out
    for item in s.split(','):
        item = item.strip()
        if not item:
            continue
        stride = 1
        if ':' in item:
            item, st = item.split(':', 1)
            stride = int(st)
        if '-' in item:
            a, b = item.split('-', 1)
            out.update(range(int(a), int(b) + 1, stride))
        else:
            out.add(int(item))
    return out


def parse_mask(s):
    """Hex cpumap '00000000,000000ff' (32-bit words, most significant first)."""
    if s is None:
        return set()
    s = s.strip()
    if not s:
        return set()
    v = 0
    for w in s.split(','):          # hwloc writes an all-zero word as an empty one (',,')
        w = w.strip()
        if w.startswith('0x'):
            w = w[2:]
        v = (v << 32) | int(w or '0', 16)
    out, i = set(), 0
    while v:
        if v & 1:
            out.add(i)
        v >>= 1
        i += 1
    return out


def fmt_list(cpus):
    """Canonical list form '0-3,8' (for messages and comparisons)."""
    cpus = sorted(cpus)
    parts, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else '%d-%d' % (cpus[i], cpus[j]))
        i = j + 1
    return ','.join(parts)


def fmt_nodes(d):
    return '{' + ', '.join('%d: %s' % (k, fmt_list(v) if isinstance(v, (set, frozenset)) else v)
                           for k, v in sorted(d.items())) + '}'


def numsort(names, prefix):
    out = []
    for n in names:
        m = re.fullmatch(prefix + r'(\d+)', n)
        if m:
            out.append(int(m.group(1)))
    return sorted(out)


# --------------------------------------------------------------------------
# independent reading of a sysfs tree (sysdir = the .../sys/devices/system dir)


class Tree:
    def __init__(self, sysdir, procdir=None):
        self.sysdir = sysdir
        self.procdir = procdir
        cpu = os.path.join(sysdir, 'cpu')
        node = os.path.join(sysdir, 'node')
        try:
            self.cpu_dirs = set(numsort(os.listdir(cpu), 'cpu'))
        except OSError:
            self.cpu_dirs = set()
        pres = rd(os.path.join(cpu, 'present'))
        self.present = parse_list(pres) if pres is not None else set(self.cpu_dirs)
        onl = rd(os.path.join(cpu, 'online'))
        if onl is not None:
            self.online = parse_list(onl) & self.present
        else:
            # no global online file: per-CPU online files, a CPU without one is online
            self.online = {c for c in self.cpu_dirs & self.present
                           if rd(os.path.join(cpu, 'cpu%d' % c, 'online')) in (None, '1')}
        self.has_node_dir = os.path.isdir(node)
        self.node_dirs = set(numsort(os.listdir(node), 'node')) if self.has_node_dir else set()
        no = rd(os.path.join(node, 'online'))
        np_ = rd(os.path.join(node, 'possible'))
        if not self.has_node_dir:
            # non-NUMA kernel: one implicit node 0 with every present CPU
            self.nodes_online = [0]
            self.possible = [0]
        else:
            self.nodes_online = sorted(parse_list(no)) if no is not None else sorted(self.node_dirs)
            self.possible = sorted(parse_list(np_)) if np_ is not None else sorted(self.node_dirs)
        self.node_cpus = {}
        self.node_mem = {}
        self.node_dist = {}
        for n in self.nodes_online:
            d = os.path.join(node, 'node%d' % n)
            if not self.has_node_dir:
                self.node_cpus[n] = set(self.present)
                self.node_mem[n] = None
                # the implicit node's distance to itself is the local distance, 10
                # (the convention of SLIT, numactl and hwloc)
                self.node_dist[n] = {n: 10}
                continue
            cl = rd(os.path.join(d, 'cpulist'))
            if cl is not None:
                cs = parse_list(cl)
            else:
                cm = rd(os.path.join(d, 'cpumap'))
                if cm is not None:
                    cs = parse_mask(cm)
                else:
                    try:
                        cs = set(numsort(os.listdir(d), 'cpu'))
                    except OSError:
                        cs = set()
            self.node_cpus[n] = cs & self.present   # node lists may name absent CPUs
            mi = rd(os.path.join(d, 'meminfo'))
            mem = None
            if mi:
                m = re.search(r'MemTotal:\s*(\d+)\s*kB', mi)
                if m:
                    mem = int(m.group(1))
            self.node_mem[n] = mem
            ds = rd(os.path.join(d, 'distance'))
            if ds:
                vals = [int(x) for x in ds.split()]
                order = self.nodes_online if len(vals) == len(self.nodes_online) else self.possible
                if len(vals) == len(order):
                    self.node_dist[n] = dict(zip(order, vals))
        # per-CPU topology of the online CPUs
        self.pkg, self.core, self.die, self.cluster, self.sib = {}, {}, {}, {}, {}
        self.pkgmask = {}
        for c in self.online:
            t = os.path.join(cpu, 'cpu%d' % c, 'topology')
            p = rd(os.path.join(t, 'physical_package_id'))
            self.pkg[c] = int(p) if p not in (None, '') and int(p) >= 0 else None
            k = rd(os.path.join(t, 'core_id'))
            self.core[c] = int(k) if k not in (None, '') else None
            v = rd(os.path.join(t, 'die_id'))
            self.die[c] = int(v) if v not in (None, '') else 0
            v = rd(os.path.join(t, 'cluster_id'))
            self.cluster[c] = int(v) if v not in (None, '') else 0
            sib = None
            for name, parser in (('core_cpus_list', parse_list), ('thread_siblings_list', parse_list),
                                 ('core_cpus', parse_mask), ('thread_siblings', parse_mask)):
                v = rd(os.path.join(t, name))
                if v is not None:
                    sib = frozenset(parser(v))
                    break
            self.sib[c] = sib
            mask = None
            for name, parser in (('package_cpus_list', parse_list), ('core_siblings_list', parse_list),
                                 ('package_cpus', parse_mask), ('core_siblings', parse_mask)):
                v = rd(os.path.join(t, name))
                if v is not None:
                    mask = frozenset(parser(v))
                    break
            self.pkgmask[c] = mask if mask and c in mask else None

    # ---- derived values
    def cells(self):
        return len(self.nodes_online)

    def cpuless_nodes(self):
        return {n for n in self.nodes_online if not self.node_cpus.get(n)}

    def topo(self):
        """(sockets, cores per socket, threads per core) of the online CPUs, as the
        kernel states them: distinct physical_package_id; a core is the kernel's SMT
        sibling mask (core_cpus/thread_siblings), else (package, die, cluster, core_id);
        threads = online CPUs of one core. None when ids are missing or -1."""
        on = sorted(self.online)
        if not on:
            return (None, None, None)
        # physical_package_id -1 (POWER, s390): the package is the package_cpus /
        # core_siblings mask, as hwloc and lscpu read it
        pkg = {c: ('id', self.pkg[c]) if self.pkg[c] is not None else
               ('mask', self.pkgmask[c]) if self.pkgmask[c] else None for c in on}
        pkg_ok = all(pkg[c] is not None for c in on)
        ident = {}
        for c in on:
            if self.sib[c]:
                ident[c] = ('sib', self.sib[c])
            elif self.core[c] is not None and pkg_ok:
                ident[c] = ('id', pkg[c], self.die[c], self.cluster[c], self.core[c])
            else:
                return (len({pkg[c] for c in on}) if pkg_ok else None, None, None)
        per_pkg = {}
        per_core = {}
        for c in on:
            per_pkg.setdefault(pkg[c], set()).add(ident[c])
            per_core[ident[c]] = per_core.get(ident[c], 0) + 1
        threads = max(per_core.values())
        if not pkg_ok:  # the sibling sets still tell the threads of a core
            return (None, None, threads)
        return (len(per_pkg), max(len(v) for v in per_pkg.values()), threads)

    def virsh(self, s390):
        """libvirt's nodeinfo numbers (virhostcpu.c, as /work/shared's oracle README
        describes them) read from the tree: (cpus, nodes, sockets, cores, threads).
        Per node directory: distinct physical_package_id (-1 or missing read as 0),
        the most distinct core_ids in one socket (s390: the CPU number), the largest
        thread-sibling count; the largest over the nodes; all of cpu/ as one node
        when no node holds an online CPU; 1 x 1 x N x 1 when the product is not the
        online + offline count. A core's threads take its first thread's core_id,
        the kernel's definition that cgplace reads (libvirt reads each one)."""
        def core_of(c):
            sib = self.sib.get(c)
            f = min(sib) if sib and c in sib and min(sib) in self.online else c
            return self.core.get(f) if self.core.get(f) is not None else 0

        def scan(cpus):
            cpus = cpus & self.present
            on = [c for c in cpus if c in self.online]
            socks = {}
            th = 0
            for c in on:
                socks.setdefault(self.pkg[c] or 0, set()).add(c if s390 else core_of(c))
                th = max(th, len(self.sib[c]) if self.sib[c] else 1)
            return (len(on), len(cpus) - len(on), len(socks),
                    max((len(v) for v in socks.values()), default=0), th)

        on = off = s = k = t = 0
        for n in sorted(self.node_dirs):
            d = os.path.join(self.sysdir, 'node', 'node%d' % n)
            cl = rd(os.path.join(d, 'cpulist'))
            cm = rd(os.path.join(d, 'cpumap')) if cl is None else None
            cs = parse_list(cl) if cl is not None else parse_mask(cm) if cm is not None else \
                set(numsort(os.listdir(d), 'cpu'))
            a, b, c, e, f = scan(cs)
            if a + b == 0:
                continue
            on, off, s, k, t = on + a, off + b, max(s, c), max(k, e), max(t, f)
        nodes = len(self.node_dirs)
        if not on or not nodes:
            on, off, s, k, t = scan(set(self.present))
            nodes = 1
        if nodes * s * k * t != on + off:
            nodes, s, k, t = 1, 1, on + off, 1
        return (on, nodes, s, k, t)

    def mhz(self):
        """'cpu MHz' (x86, s390 'cpu MHz static') or 'clock' (POWER) from /proc/cpuinfo,
        else the first online CPU's cpufreq maximum. None when neither exists."""
        ci = rd(os.path.join(self.procdir, 'cpuinfo')) if self.procdir else None
        if ci:
            for line in ci.splitlines():
                m = re.match(r'(cpu MHz|clock|cpu MHz static)\s*:\s*([0-9.]+)', line)
                if m and float(m.group(2)) > 0:
                    return int(float(m.group(2)))
        if self.online:
            f = rd(os.path.join(self.sysdir, 'cpu', 'cpu%d' % min(self.online),
                                'cpufreq', 'cpuinfo_max_freq'))
            if f:
                return int(f) // 1000
        return None

    def mhz_libvirt(self):
        """virsh's MHz: the integer part of the first 'cpu MHz' (x86), 'clock' (POWER),
        'BogoMIPS' (ARM) or 'cpu MHz dynamic' (s390) line of /proc/cpuinfo, else 0."""
        ci = rd(os.path.join(self.procdir, 'cpuinfo')) if self.procdir else None
        for line in (ci or '').splitlines():
            m = re.match(r'(cpu MHz|clock|BogoMIPS|cpu MHz dynamic)\s*:\s*(\d+)', line)
            if m:
                return int(m.group(2))
        return 0

    def has_cpuinfo_freq_key(self):
        ci = rd(os.path.join(self.procdir, 'cpuinfo')) if self.procdir else None
        return bool(ci and re.search(r'^(cpu MHz|clock)\s*:', ci, re.M))


# --------------------------------------------------------------------------
# runner


class Runner(H.Layer):
    def __init__(self, binpath, results):
        super().__init__('oracle', results, verbose=True)
        self.cli = H.Cli(binpath)
        self.failures = []
        self.design = []

    def fail(self, name, *msg):
        self.failures.append((name, ' '.join(msg)))
        super().fail(name, *msg)

    def compare(self, name, cg, oracle, ind, reason=None, show=str):
        """See the module docstring for the rule."""
        if cg == oracle:
            self.ok(name, '%s' % show(cg))
        elif cg != ind:
            self.fail(name, 'cgplace %s, oracle %s, sysfs says %s' % (show(cg), show(oracle), show(ind)))
        elif reason:
            self.design.append((name, reason))
            self.ok(name, 'differs by design: %s (cgplace %s = sysfs reading; oracle %s)'
                    % (reason, show(cg), show(oracle)))
        else:
            self.fail(name, 'undocumented difference: cgplace %s (= sysfs reading), oracle %s'
                      % (show(cg), show(oracle)))

    def cg(self, root, *args, json_out=True):
        r = self.cli.run(*((['--json'] if json_out else []) + list(args)), sysroot=root)
        if r.rc != 0:
            raise RuntimeError('%s %s: %s' % (' '.join(r.argv), H.describe_rc(r.rc), r.err.strip()))
        return json.loads(r.out) if json_out else r.out


def cg_model(run, root):
    """cgplace's view: nodeinfo + topology JSON, normalised."""
    ni = run.cg(root, 'nodeinfo')
    tp = run.cg(root, 'topology')
    online = parse_list(tp.get('cpus_online', ''))
    nodes = {}
    for n in tp['nodes']:
        if not n.get('online', True):
            continue
        dist = {int(k): v for k, v in (n.get('distances') or {}).items()}
        nodes[n['id']] = {'cpus': parse_list(n.get('cpus') or ''), 'mem': n.get('memory_kib'),
                          'kind': n.get('kind'), 'dist': dist}
    return {'ni': ni, 'online': online, 'present': parse_list(tp.get('cpus_present', '')),
            'nodes': nodes,
            'topo': (ni.get('sockets'), ni.get('cores_per_socket'), ni.get('threads_per_core'))}


def show_topo(t):
    return 'sockets=%s cores/socket=%s threads/core=%s' % tuple('?' if v is None else v for v in t)


def guarded(run, name, fn):
    try:
        fn()
    except Exception as e:  # a crash of cgplace or an unreadable oracle is a failure
        run.fail(name, 'error: %s' % e)


# --------------------------------------------------------------------------
# 1. libvirt virhostcpudata

LV_LINE = re.compile(r'CPUs: (\d+)/(\d+), MHz: (\d+), Nodes: (\d+), Sockets: (\d+), '
                     r'Cores: (\d+), Threads: (\d+)')


def libvirt_reason_topo(case, arch, lv, ind, tree):
    """Why libvirt's Sockets/Cores/Threads legitimately differ from the kernel's reading."""
    total = len(tree.online) + len((tree.present & tree.cpu_dirs) - tree.online)
    if arch == 'ppc64':
        return ("libvirt's POWER model (8 threads per subcore, offline secondaries of an online "
                "primary counted, sockets/cores per NUMA node) does not apply; cgplace reports "
                "packages, cores and online threads as read")
    # libvirt's sanity check multiplies its own per-node counts (cores from the
    # core_id range), so even a uniform host (test7: 2 x 12 with sparse core ids) can trip it.
    if lv[0] == 1 and lv[2] == 1 and lv[1] == total and ind[0] is not None and tuple(ind) != (1, total, 1):
        return ('libvirt reports non-uniform topology as 1 socket x %d cores; cgplace reports '
                '%d packages as read' % (lv[1], ind[0]))
    if ind[0] is None:
        return ('physical_package_id is -1 or missing: libvirt assumes socket 0, cgplace reports '
                'the topology as unknown')
    if tree.has_node_dir and len(tree.nodes_online) > 1 and lv[0] < ind[0]:
        return ('libvirt counts sockets/cores per NUMA node (max over nodes); cgplace counts '
                'packages host-wide (%d)' % ind[0])
    return None


def run_libvirt_nodeinfo(run, O, work):
    base = os.path.join(O, 'libvirt/tests/virhostcpudata')
    if not os.path.isdir(base):
        run.skip('libvirt-nodeinfo', 'no %s' % base)
        return
    for exp in sorted(f for f in os.listdir(base) if f.endswith('.expected')):
        stem = exp[:-len('.expected')]                      # linux-ARCH-NAME
        m = re.fullmatch(r'linux-([^-]+)-(.+)', stem)
        arch, name = m.group(1), m.group(2)
        tree_dir = os.path.join(base, 'linux-' + name)
        label = 'libvirt/%s' % stem[len('linux-'):]
        if not os.path.isdir(tree_dir):
            run.skip(label, 'tree linux-%s not present' % name)
            continue
        root = os.path.join(work, 'libvirt', stem[len('linux-'):])
        os.makedirs(os.path.join(root, 'sys/devices'), exist_ok=True)
        os.makedirs(os.path.join(root, 'proc'), exist_ok=True)
        link = os.path.join(root, 'sys/devices/system')
        if not os.path.islink(link) or os.readlink(link) != tree_dir:
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(tree_dir, link)
        # cgplace opens files with O_NOFOLLOW (a sysroot must not redirect reads), so
        # proc/cpuinfo is a cached copy in the build tree, like the unpacked tarballs
        ci = os.path.join(root, 'proc/cpuinfo')
        src = os.path.join(base, stem + '.cpuinfo')
        data = open(src, 'rb').read()
        if os.path.islink(ci) or not os.path.exists(ci) or open(ci, 'rb').read() != data:
            if os.path.lexists(ci):
                os.unlink(ci)
            with open(ci, 'wb') as f:
                f.write(data)
        with open(os.path.join(base, exp)) as f:
            lm = LV_LINE.search(f.read())
        lvcpus, _, lvmhz, lvnodes, lvs, lvc, lvt = [int(x) for x in lm.groups()]
        tree = Tree(tree_dir, os.path.join(root, 'proc'))
        try:
            cg = cg_model(run, root)
        except Exception as e:
            run.fail(label, 'cgplace failed: %s' % e)
            continue
        ni = cg['ni']
        # CPUs online
        reason = None
        if arch == 'ppc64':
            reason = ("libvirt's ppc64 subcore logic counts offline secondary threads of an online "
                      "primary (8 threads/subcore) as online; cgplace counts online CPUs as read")
        run.compare(label + ' cpus', ni['cpus'], lvcpus, len(tree.online), reason)
        # MHz
        reason = None
        if not tree.has_cpuinfo_freq_key():
            reason = ("/proc/cpuinfo of %s has no 'cpu MHz'/'clock' key: libvirt prints %s "
                      "(BogoMIPS on ARM, else 0); cgplace reports the frequency as unknown "
                      "rather than BogoMIPS" % (arch, lvmhz))
        run.compare(label + ' mhz', ni['mhz'], lvmhz, tree.mhz(), reason)
        # NUMA cells
        reason = None
        if tree.cells() != lvnodes:
            if not tree.cpuless_nodes() ^ set(tree.nodes_online) and tree.has_node_dir:
                reason = ('libvirt falls back to Nodes: 1 when no node holds a CPU; cgplace counts '
                          'the %d online (CPU-less) nodes' % tree.cells())
            else:
                reason = ('libvirt reports Nodes: 1 with its non-uniform topology fallback; '
                          'cgplace counts the %d online nodes' % tree.cells())
        run.compare(label + ' cells', ni['cells'], lvnodes, tree.cells(), reason)
        # sockets/cores/threads
        ind = tree.topo()
        lv = (lvs, lvc, lvt)
        reason = libvirt_reason_topo(name, arch, lv, ind, tree) if ind != lv else None
        run.compare(label + ' topology', cg['topo'], lv, ind, reason, show_topo)
        # nodeinfo --virsh: libvirt's own meaning, the whole line
        try:
            vj = run.cg(root, 'nodeinfo', '--virsh')
        except Exception as e:
            run.fail(label + ' virsh', 'cgplace failed: %s' % e)
            continue
        got = (vj['cpus'], vj['mhz'], vj['cells'], vj['sockets'], vj['cores_per_socket'],
               vj['threads_per_core'])
        v = tree.virsh(arch.startswith('s390'))
        ind = (v[0], tree.mhz_libvirt(), v[1], v[2], v[3], v[4])
        reason = None
        if arch == 'ppc64' and got != (lvcpus, lvmhz, lvnodes, lvs, lvc, lvt):
            reason = ("libvirt's test mocks KVM's threads per subcore (8) on POWER: offline "
                      "secondary threads of an online primary count as online and 8 threads per "
                      "core; a host without KVM's subcores (and cgplace) counts threads as read")
        elif name == 'test8':
            reason = ("the dump's core_id contradicts its thread_siblings (cpu0 and cpu4 are "
                      "siblings with core_ids 0 and 1): libvirt reads every core_id, counts 8 "
                      "cores x 2 threads per node and falls back to 1 x 1 x 64 x 1; cgplace takes "
                      "the sibling set as the core, as the kernel defines it")
        run.compare(label + ' virsh', got, (lvcpus, lvmhz, lvnodes, lvs, lvc, lvt), ind, reason,
                    lambda x: 'CPUs %s, MHz %s, Nodes %s, Sockets %s, Cores %s, Threads %s' % x)
    cur = os.path.join(O, 'libvirt-current/tests/virhostcpudata')
    if os.path.isdir(cur):
        for exp in sorted(os.listdir(cur)):
            run.skip('libvirt-current/%s' % exp, 'expected output only; its sysfs tree was not copied')


# --------------------------------------------------------------------------
# 2. libvirt vircaps2xmldata


def caps_model(xml_text):
    root = ET.fromstring(xml_text)
    cells = root.find('./host/topology/cells')
    out = {'num': int(cells.get('num')), 'cells': {}, 'cpus': {}}
    for cell in cells.findall('cell'):
        cid = int(cell.get('id'))
        cpus = cell.find('cpus')
        ids = []
        for c in (cpus.findall('cpu') if cpus is not None else []):
            i = int(c.get('id'))
            ids.append(i)
            out['cpus'][i] = (c.get('socket_id'), c.get('core_id'),
                              fmt_list(parse_list(c.get('siblings'))) if c.get('siblings') else None)
        out['cells'][cid] = (int(cpus.get('num')) if cpus is not None else None, tuple(sorted(ids)))
    return out


def run_libvirt_caps(run, O, work, rng):
    base = os.path.join(O, 'libvirt/tests/vircaps2xmldata')
    cur = os.path.join(O, 'libvirt-current/tests/vircaps2xmldata')
    pairs = [('basic', os.path.join(base, 'vircaps-x86_64-basic.xml')),
             ('basic', os.path.join(base, 'vircaps-aarch64-basic.xml')),
             ('caches', os.path.join(base, 'vircaps-x86_64-caches.xml')),
             ('basic', os.path.join(cur, 'vircaps-x86_64-basic.xml')),
             ('basic', os.path.join(cur, 'vircaps-aarch64-basic.xml'))]
    cache = {}
    for tname, xmlf in pairs:
        label = 'vircaps/%s/%s' % (os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(xmlf)))),
                                   os.path.basename(xmlf))
        tree_dir = os.path.join(base, 'linux-' + tname)
        if not os.path.isdir(tree_dir) or not os.path.exists(xmlf):
            run.skip(label, 'tree or expected file absent')
            continue
        if tname not in cache:
            root = os.path.join(work, 'vircaps', tname)
            os.makedirs(os.path.join(root, 'sys/devices'), exist_ok=True)
            os.makedirs(os.path.join(root, 'proc'), exist_ok=True)
            link = os.path.join(root, 'sys/devices/system')
            if not os.path.lexists(link):
                os.symlink(tree_dir, link)
            try:
                xml = run.cg(root, 'capabilities', json_out=False)
                cache[tname] = (root, xml, caps_model(xml))
            except Exception as e:
                cache[tname] = None
                run.fail('vircaps/linux-%s' % tname, 'cgplace capabilities failed: %s' % e)
            if cache[tname]:
                validate_rng(run, 'vircaps/linux-%s capabilities-rng' % tname, cache[tname][1], work, rng)
        if not cache[tname]:
            continue
        _, _, cgm = cache[tname]
        with open(xmlf) as f:
            exm = caps_model(f.read())
        tree = Tree(tree_dir)
        run.compare(label + ' cells-num', cgm['num'], exm['num'], tree.cells())
        run.compare(label + ' cell-cpus', cgm['cells'], exm['cells'],
                    {n: (len(tree.node_cpus[n]), tuple(sorted(tree.node_cpus[n]))) for n in tree.nodes_online})

        def ind_cpu(c):
            t = os.path.join(tree_dir, 'cpu', 'cpu%d' % c, 'topology')
            s = rd(os.path.join(t, 'thread_siblings_list'))
            return (rd(os.path.join(t, 'physical_package_id')), rd(os.path.join(t, 'core_id')),
                    fmt_list(parse_list(s)) if s else str(c))
        run.compare(label + ' cpu-attrs', cgm['cpus'], exm['cpus'],
                    {c: ind_cpu(c) for n in tree.nodes_online for c in tree.node_cpus[n]},
                    show=lambda d: '%d cpus %s' % (len(d), sorted(d.items())[:3]))
    for f in ('vircaps-x86_64-basic-dies.xml', 'vircaps-aarch64-basic-clusters.xml', 'vircaps-x86_64-hmat.xml'):
        run.skip('vircaps/libvirt-current/%s' % f, 'expected output only; its sysfs tree was not copied')


def validate_rng(run, name, xml, work, rng):
    problems = H.relaxng(xml, rng) if rng else None
    if problems is None:
        run.skip(name, 'xmllint or /usr/share/libvirt/schemas/capability.rng not available')
    elif problems:
        run.fail(name, *problems)
    else:
        run.ok(name, 'valid against capability.rng')


# --------------------------------------------------------------------------
# 3. hwloc


class HNode:
    def __init__(self, typ, os_index, attrs, parent):
        self.type, self.os, self.attrs, self.parent, self.children = typ, os_index, attrs, parent, []
        if parent:
            parent.children.append(self)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def hw_from_tree(top):
    """numa: {os: {'cpus', 'mem_kib' or ('rounded', value, unit)}}; topo counts."""
    numa = {}
    for o in top.walk():
        if o.type == 'NUMANode':
            numa[o.os] = o
    pkgs = [o for o in top.walk() if o.type == 'Package']
    if pkgs:
        cores_pp = max(len([c for c in p.walk() if c.type == 'Core']) for p in pkgs)
    else:
        cores_pp = None
    cores = [c for c in top.walk() if c.type == 'Core']
    thr = max((len([u for u in c.walk() if u.type == 'PU']) for c in cores), default=None)
    pus = len([u for u in top.walk() if u.type == 'PU'])
    return numa, (len(pkgs) if pkgs else None, cores_pp, thr), pus


UNITS = {'B': 1.0 / 1024, 'KB': 1, 'KiB': 1, 'MB': 1024, 'MiB': 1024, 'GB': 1 << 20, 'GiB': 1 << 20,
         'TB': 1 << 30, 'TiB': 1 << 30}


def parse_console(path):
    """hwloc master's `lstopo -v -` text -> (numa{os: {'cpus', 'mem'}}, topo, dist, pus)."""
    lines = open(path, encoding='utf-8', errors='replace').read().splitlines()
    top = None
    stack = []
    # one object per line; an attribute value may hold a newline (DMI strings), so the
    # closing parenthesis is not required and continuation lines do not match
    # (an object without attributes, e.g. s390's "Package L#0", has no parenthesis at all)
    objre = re.compile(r'^(\s*)([A-Za-z][A-Za-z0-9]*)(?:\(([^)]*)\))?(?: L#(\d+))?(?: \((?:P#(\d+))?(.*))?$')
    numa_l2p = {}
    i = 0
    for i, line in enumerate(lines):
        if re.match(r'^\s*(depth \d|Special depth)', line):
            break
        m = objre.match(line)
        if not m or (m.group(4) is None and m.group(6) is None):
            continue
        ind = len(m.group(1))
        while stack and stack[-1][0] >= ind:
            stack.pop()
        parent = stack[-1][1] if stack else None
        o = HNode(m.group(2), int(m.group(5)) if m.group(5) else None, m.group(6) or '', parent)
        if o.type == 'NUMANode':
            numa_l2p[int(m.group(4))] = o.os
            mm = re.search(r'local=(\d+)([KMGT]?i?B)', m.group(6))
            o.mem = (int(mm.group(1)), mm.group(2)) if mm else None
        if top is None:
            top = o
        stack.append((ind, o))
    numa_objs, topo, pus = hw_from_tree(top)
    numa = {}
    for os_i, o in numa_objs.items():
        par = o.parent
        while par.parent and par.type in ('MemCache', 'NUMANode'):   # memory-side caches
            par = par.parent
        cpus = {u.os for u in par.walk() if u.type == 'PU'}
        numa[os_i] = {'cpus': cpus, 'mem': o.mem}
    # the first latency matrix, by logical indexes
    dist = None
    for j in range(i, len(lines)):
        if lines[j].startswith('Relative latency matrix'):
            hdr = lines[j + 1].split()
            cols = [int(x) for x in hdr[1:]]
            dist = {}
            for k in range(len(cols)):
                row = lines[j + 2 + k].split()
                r = numa_l2p[int(row[0])]
                for c, v in zip(cols, row[1:]):
                    dist[(r, numa_l2p[c])] = int(v)
            break
    return numa, topo, dist, pus


def parse_hwloc_xml(text, cpus_attr='cpuset', online=None):
    root = ET.fromstring(text)

    def build(el, parent):
        o = HNode(el.get('type'), int(el.get('os_index')) if el.get('os_index') else None, el.attrib, parent)
        for ch in el.findall('object'):
            build(ch, o)
        return o
    top = build(root.find('object'), None)
    numa_objs, topo, pus = hw_from_tree(top)
    numa = {}
    for os_i, o in numa_objs.items():
        cs = parse_mask(o.attrs.get(cpus_attr, '0x0').replace('0x', ''))
        if online is not None:
            cs &= online
        numa[os_i] = {'cpus': cs, 'mem': int(o.attrs.get('local_memory', '0')) // 1024}
    dist = None
    for d in root.iter('distances2'):
        if d.get('type') != 'NUMANode' or (d.get('name') and d.get('name') != 'NUMALatency'):
            continue
        idx = [int(x) for x in ' '.join(e.text or '' for e in d.findall('indexes')).split()]
        vals = [int(x) for x in ' '.join(e.text or '' for e in d.findall('u64values')).split()]
        n = len(idx)
        dist = {(idx[a], idx[b]): vals[a * n + b] for a in range(n) for b in range(n)}
        break
    return numa, topo, dist, pus


def mem_matches(cg_kib, rounded):
    """cgplace's exact KiB against hwloc master's rounded 'local=95GiB'."""
    if cg_kib is None or rounded is None:
        return cg_kib == rounded
    val, unit = rounded
    return round(cg_kib / UNITS[unit]) == val


# Deliberate differences between cgplace and hwloc, per machine and aspect.  Every
# one is also checked against our own reading of the tree (Runner.compare) and,
# where a predicate is given, the reason itself is verified on the tree.
HW_DESIGN = {
    ('8em64t-2s2ca2c-buggynuma', 'nodes'):
        'hwloc drops the buggy NUMA info (all 8 nodes claim CPUs 0-7, all distances 10) and keeps '
        'one node; cgplace reports the 8 online nodes sysfs lists',
    ('8em64t-2s2ca2c-buggynuma', 'cpus'):
        'hwloc keeps one node; cgplace reports each node\'s sysfs cpulist (every node claims 0-7)',
    ('8em64t-2s2ca2c-buggynuma', 'memory'):
        'hwloc keeps one node holding all memory; cgplace reports each node\'s MemTotal',
    ('8em64t-2s2ca2c-buggynuma', 'distances'):
        'hwloc drops the all-10 matrix with the buggy nodes; cgplace reports sysfs distances',
    ('16ia64-8n2s', 'topology'):
        'hwloc builds packages from core_siblings masks (each CPU alone: 16 packages); cgplace '
        'counts distinct physical_package_id (8)',
    ('64intel64-fakeKNL-SNC4-hybrid', 'distances'):
        'hwloc\'s KNL quirk discards the SLIT matrix of KNL nodes (it pairs each MCDRAM node with '
        'its DRAM node instead); cgplace reports the sysfs node distances',
    ('32amd64-4s2n4c-cgroup2', 'topology'):
        'the expected XML (no --disallowed) only holds the CPUs of the dump\'s cgroup cpuset '
        '(0-5, in 3 packages); cgplace describes every online CPU',
    ('64amd64-4s2n4ca2co', 'topology'):
        'thread_siblings pairs the two cores of a Bulldozer compute unit: the kernel calls them '
        'SMT threads (cgplace 2 threads/core, as libvirt); hwloc makes each a Core',
}


def hw_reason_nodes(tree, machine, cgv, hwv, env, expected_kind):
    """Documented reasons for a node-id set difference, verified on the tree."""
    missing = set(cgv) - set(hwv)
    extra = set(hwv) - set(cgv)
    if extra:
        return None
    memless = {n for n in tree.nodes_online if not tree.node_mem.get(n)}
    if machine == '8em64t-2s2ca2c-buggynuma':
        return HW_DESIGN[(machine, 'nodes')]
    if missing and missing <= memless and expected_kind:
        return ('hwloc (without --disallowed) hides memory-less node(s) %s (sysfs MemTotal 0); '
                'cgplace lists them' % fmt_list(missing))
    if machine.startswith('nvidiagpunumanodes') and 'HWLOC_KEEP_NVIDIA_GPU_NUMA_NODES' not in env \
            and missing <= tree.cpuless_nodes():
        return ('hwloc hides NVIDIA GPU memory nodes %s unless HWLOC_KEEP_NVIDIA_GPU_NUMA_NODES=1; '
                'cgplace lists them (CPU-less, kind memory-only)' % fmt_list(missing))
    if machine.startswith('32amd64-4s2n4c-cgroup2') and expected_kind:
        mems = cgroup_mems(tree)
        if mems is not None and not (missing & mems):
            return ('the dump\'s cgroup-v2 cpuset (cpuset.mems.effective=%s) excludes node(s) %s; '
                    'hwloc drops disallowed nodes, cgplace reads the whole topology'
                    % (fmt_list(mems), fmt_list(missing)))
    return None


def cgroup_file(tree, name):
    """A cpuset file of the dump's own cgroup (proc/self/cpuset under cgroup/unified)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(tree.sysdir)))
    rel = rd(os.path.join(root, 'proc/self/cpuset'))
    if rel is None:
        return None
    v = rd(os.path.join(root, 'cgroup/unified') + rel + '/' + name)
    return parse_list(v) if v is not None else None


def cgroup_mems(tree):
    return cgroup_file(tree, 'cpuset.mems.effective')


def hw_compare(run, label, machine, tree, cg, hw, env, expected_kind, exp_console):
    numa, topo, dist, pus = hw
    cgn = cg['nodes']
    ids_cg = sorted(cgn)
    ids_hw = sorted(numa)
    run.compare(label + ' nodes', ids_cg, ids_hw, tree.nodes_online,
                hw_reason_nodes(tree, machine, ids_cg, ids_hw, env, expected_kind))
    common = [n for n in ids_cg if n in numa]
    # CPUs per node: cgplace's node cpus restricted to online CPUs (hwloc drops offline CPUs)
    cgc = {n: cgn[n]['cpus'] & cg['online'] for n in common}
    hwc = {n: numa[n]['cpus'] for n in common}
    indc = {n: tree.node_cpus.get(n, set()) & tree.online for n in common}
    reason = HW_DESIGN.get((machine, 'cpus'))
    diff = {n for n in common if cgc[n] != hwc[n]}
    if not reason and diff and diff <= tree.cpuless_nodes():
        bad_kind = [n for n in diff if cgn[n]['kind'] not in ('memory-only', 'neither')]
        if not bad_kind:
            reason = ('hwloc attaches CPU-less node(s) %s to the CPUs nearest them; sysfs cpulist is '
                      'empty and cgplace reports no CPUs (kind memory-only)' % fmt_list(diff))
    if not reason and machine.startswith('32amd64-4s2n4c-cgroup2') and expected_kind:
        reason = 'expected output restricted to the dump\'s cgroup cpuset; cgplace reads all CPUs'
    run.compare(label + ' cpus', cgc, hwc, indc, reason, fmt_nodes)
    # memory per node
    if exp_console:
        memok = {n: mem_matches(cgn[n]['mem'], numa[n]['mem']) for n in common}
        bad = {n: (cgn[n]['mem'], numa[n]['mem']) for n in common if not memok[n]}
        reason = HW_DESIGN.get((machine, 'memory'))
        if not bad:
            run.ok(label + ' memory', 'MemTotal of %d node(s) matches local= (rounded)' % len(common))
        elif all(cgn[n]['mem'] == tree.node_mem.get(n) for n in bad) and reason:
            run.design.append((label + ' memory', reason))
            run.ok(label + ' memory', 'differs by design: %s' % reason)
        else:
            run.fail(label + ' memory', 'node: (cgplace KiB, hwloc local=) %s; sysfs MemTotal %s'
                     % (bad, {n: tree.node_mem.get(n) for n in bad}))
    else:
        run.compare(label + ' memory', {n: cgn[n]['mem'] or 0 for n in common},
                    {n: numa[n]['mem'] for n in common},
                    {n: tree.node_mem.get(n) or 0 for n in common},
                    HW_DESIGN.get((machine, 'memory')), fmt_nodes)
    # distances over the nodes both list
    cgd = {(a, b): cgn[a]['dist'].get(b) for a in common for b in common}
    indd = {(a, b): tree.node_dist.get(a, {}).get(b) for a in common for b in common}
    if dist is None:
        if len(common) <= 1 or all(v is None for v in indd.values()):
            run.compare(label + ' distances', cgd, indd, indd,
                        show=lambda d: 'no hwloc matrix; %d entries' % len(d))
        else:
            run.compare(label + ' distances', cgd, None, indd,
                        HW_DESIGN.get((machine, 'distances')),
                        show=lambda d: 'none' if d is None else '%d entries' % len(d))
    else:
        hwd = {(a, b): dist.get((a, b)) for a in common for b in common}
        bad = sorted(k for k in cgd if cgd[k] != hwd[k])
        run.compare(label + ' distances', cgd, hwd, indd, HW_DESIGN.get((machine, 'distances')),
                    show=lambda d: '%dx%d matrix%s' % (len(common), len(common),
                                                        (' (first diffs %s)' % [(k, d[k]) for k in bad[:4]]) if bad else ''))
    # PUs: hwloc's PU objects are the online (and, without --disallowed, allowed) CPUs
    reason = None
    if expected_kind and machine.startswith('32amd64-4s2n4c-cgroup2'):
        cg_cpus = cgroup_file(tree, 'cpuset.cpus.effective')
        if cg_cpus is not None and len(cg_cpus & tree.online) == pus:
            reason = ('hwloc keeps only the %d CPUs of the dump\'s cgroup cpuset (%s); cgplace counts '
                      'every online CPU' % (pus, fmt_list(cg_cpus)))
    run.compare(label + ' pus', len(cg['online']), pus, len(tree.online), reason)
    # sockets / cores per socket / threads per core
    if topo[0] is None and topo[1] is None:
        run.skip(label + ' topology', 'oracle has no Package/Core objects')
    else:
        run.compare(label + ' topology', cg['topo'], topo, tree.topo(),
                    HW_DESIGN.get((machine, 'topology')), show_topo)


def unpack(tarpath, dest, mode):
    """Unpack once into dest (a cache); return the single top directory.
    GNU tar is used when present (3x faster than tarfile on these 70,000-file trees);
    the tree is unpacked into dest.tmp and renamed, so an interrupted run leaves no
    half-filled cache."""
    if not os.path.isdir(dest):
        tmp = dest + '.tmp'
        if os.path.exists(tmp):
            subprocess.run(['rm', '-rf', '--', tmp], check=True)
        os.makedirs(tmp)
        r = subprocess.run(['tar', '--no-same-owner', '--no-same-permissions', '-C', tmp, '-xf', tarpath],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            subprocess.run(['rm', '-rf', '--', tmp], check=True)
            os.makedirs(tmp)
            with tarfile.open(tarpath, mode) as t:
                members = [m for m in t.getmembers() if not m.isdev()]
                try:
                    t.extractall(tmp, members=members, filter='tar')
                except TypeError:  # Python < 3.12 without extraction filters
                    t.extractall(tmp, members=members)
        os.rename(tmp, dest)
    tops = [d for d in os.listdir(dest) if not d.startswith('.')]
    if len(tops) != 1:
        raise RuntimeError('%s: expected one top directory, got %s' % (tarpath, tops))
    return os.path.join(dest, tops[0])


def run_hwloc(run, O, work):
    base = os.path.join(O, 'hwloc/tests/hwloc/linux')
    if not os.path.isdir(base):
        run.skip('hwloc', 'no %s' % base)
        return
    have_hwloc = subprocess.run(['sh', '-c', 'command -v lstopo-no-graphics'],
                                stdout=subprocess.DEVNULL).returncode == 0
    live_done = set()
    for test in sorted(f for f in os.listdir(base) if f.endswith('.test')):
        machine = test[:-len('.test')]
        kv = {}
        env = {}
        for line in open(os.path.join(base, test)):
            m = re.match(r'(\w+):\s*(.*)', line)
            if not m or line.startswith('#'):
                continue
            if m.group(1) == 'env':
                e = re.match(r'(\w+)=(\S*)', m.group(2))
                if e:
                    env[e.group(1)] = e.group(2)
            else:
                kv[m.group(1)] = m.group(2).strip()
        tarname = kv['source']
        mname = tarname[:-len('.tar.bz2')]
        label = 'hwloc/%s' % machine
        try:
            root = unpack(os.path.join(base, tarname), os.path.join(work, 'hwloc', mname), 'r:bz2')
            tree = Tree(os.path.join(root, 'sys/devices/system'), os.path.join(root, 'proc'))
            cg = cg_model(run, root)
        except Exception as e:
            run.fail(label, 'setup failed: %s' % e)
            continue
        validate_key = ('rng', mname)
        if validate_key not in live_done:
            live_done.add(validate_key)
            guarded(run, 'hwloc/%s capabilities-rng' % mname,
                    lambda: validate_rng(run, 'hwloc/%s capabilities-rng' % mname,
                                         run.cg(root, 'capabilities', json_out=False), work, RNG))
        # expected file
        target = os.path.join(base, kv['target'])
        try:
            if target.endswith('.console'):
                hw = parse_console(target)
            else:
                hw = parse_hwloc_xml(open(target).read(), 'complete_cpuset', tree.online)
        except Exception as e:
            run.fail(label + ' expected', 'cannot parse %s: %s' % (target, e))
            hw = None
        if hw:
            guarded(run, label, lambda: hw_compare(run, label + ' [%s]' % os.path.basename(target),
                                                   machine, tree, cg, hw, env, True,
                                                   target.endswith('.console')))
        # live hwloc 2.9 (once per tarball and environment)
        key = (mname, tuple(sorted(env.items())))
        if key in live_done:
            continue
        live_done.add(key)
        llabel = 'hwloc/%s [live hwloc%s]' % (mname, ' ' + ' '.join('%s=%s' % x for x in env.items()) if env else '')
        if not have_hwloc:
            run.skip(llabel, 'lstopo-no-graphics (Debian hwloc) not installed')
            continue
        e2 = dict(os.environ, HWLOC_COMPONENTS='linux,stop', HWLOC_FSROOT=root, **env)
        r = subprocess.run(['lstopo-no-graphics', '--disallowed', '--of', 'xml'], env=e2,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0:
            run.fail(llabel, 'lstopo failed: %s' % r.stderr.decode(errors='replace')[-300:])
            continue
        hw = parse_hwloc_xml(r.stdout.decode(), 'cpuset')
        guarded(run, llabel, lambda: hw_compare(run, llabel, machine if env else mname, tree, cg, hw,
                                                env, False, False))


# --------------------------------------------------------------------------
# 4. util-linux lscpu


def parse_lscpu_block(text):
    block = text.split('\n\n')[0]
    kv = {}
    for line in block.splitlines():
        m = re.match(r'([^:]+):\s*(.*)$', line)
        if m:
            kv[m.group(1).strip()] = m.group(2).strip()
    nodes = {}
    for k, v in kv.items():
        m = re.fullmatch(r'NUMA node(\d+) CPU\(s\)', k)
        if m:
            nodes[int(m.group(1))] = parse_list(v)

    def num(k):
        return int(kv[k]) if k in kv and re.fullmatch(r'\d+', kv[k]) else None
    sockets = num('Socket(s)')
    if sockets is None and 'Socket(s) per book' in kv:
        sockets = num('Socket(s) per book') * (num('Book(s)') or
                                               (num('Book(s) per drawer') or 1) * (num('Drawer(s)') or 1))
    return {'nodes': nodes, 'online': parse_list(kv.get('On-line CPU(s) list')),
            'offline': parse_list(kv.get('Off-line CPU(s) list')),
            'topo': (sockets, num('Core(s) per socket'), num('Thread(s) per core')), 'kv': kv}


UL_DESIGN = {
    ('s390-lpar', 'topology'):
        'lscpu takes s390 socket/book counts from /proc/sysinfo (machine capacity); cgplace '
        'counts the package masks (physical_package_id is -1) and cores of the online CPUs',
    ('s390-lpar-drawer', 'topology'):
        'lscpu takes s390 socket/book/drawer counts from /proc/sysinfo (machine capacity); '
        'cgplace counts the packages and cores of the online CPUs',
}


def ul_compare(run, label, name, tree, cg, lo, live=False):
    on_cg = cg['online']
    run.compare(label + ' online', fmt_list(on_cg), fmt_list(lo['online']), fmt_list(tree.online))
    off_cg = cg['present'] - on_cg
    run.compare(label + ' offline', fmt_list(off_cg), fmt_list(lo['offline']),
                fmt_list(tree.present - tree.online))
    ids_cg = sorted(cg['nodes'])
    reason = None
    if not tree.has_node_dir and not lo['nodes']:
        reason = ('no node/ directory (non-NUMA kernel): lscpu prints no NUMA lines, cgplace reports '
                  'one implicit node 0 holding every present CPU')
    run.compare(label + ' nodes', ids_cg, sorted(lo['nodes']), tree.nodes_online, reason)
    common = [n for n in ids_cg if n in lo['nodes']]
    cgc = {n: cg['nodes'][n]['cpus'] for n in common}
    loc = {n: lo['nodes'][n] for n in common}
    indc = {n: tree.node_cpus[n] for n in common}
    reason = None
    diff = [n for n in common if cgc[n] != loc[n]]
    if diff and all(cgc[n] == loc[n] & tree.present for n in diff):
        reason = ('lscpu prints the raw node cpumap (%s), naming absent CPUs; cgplace keeps the '
                  'present CPUs' % '; '.join('node%d %s' % (n, fmt_list(loc[n])) for n in diff))
    run.compare(label + ' node-cpus', cgc, loc, indc, reason, fmt_nodes)
    if live and lo['topo'] == (None, None, None):
        run.skip(label + ' topology', 'this lscpu prints no socket/core/thread counts for this dump')
        return
    run.compare(label + ' topology', cg['topo'], lo['topo'], tree.topo(),
                UL_DESIGN.get((name, 'topology')), show_topo)


def run_utillinux(run, O, work):
    base = os.path.join(O, 'util-linux/tests')
    dumps = os.path.join(base, 'ts/lscpu/dumps')
    if not os.path.isdir(dumps):
        run.skip('util-linux', 'no %s' % dumps)
        return
    have_lscpu = subprocess.run(['sh', '-c', 'command -v lscpu'], stdout=subprocess.DEVNULL).returncode == 0
    for tgz in sorted(os.listdir(dumps)):
        if not tgz.endswith('.tar.gz'):
            continue
        name = tgz[:-len('.tar.gz')]
        label = 'util-linux/%s' % name
        try:
            root = unpack(os.path.join(dumps, tgz), os.path.join(work, 'util-linux', name), 'r:gz')
            tree = Tree(os.path.join(root, 'sys/devices/system'), os.path.join(root, 'proc'))
            cg = cg_model(run, root)
        except Exception as e:
            run.fail(label, 'setup failed: %s' % e)
            continue
        guarded(run, label + ' capabilities-rng',
                lambda: validate_rng(run, label + ' capabilities-rng',
                                     run.cg(root, 'capabilities', json_out=False), work, RNG))
        exp = os.path.join(base, 'expected/lscpu/lscpu-' + name)
        if os.path.exists(exp):
            guarded(run, label, lambda: ul_compare(run, label + ' [expected]', name, tree, cg,
                                                   parse_lscpu_block(open(exp).read())))
        else:
            run.skip(label + ' [expected]', 'no %s' % exp)
        if have_lscpu:
            r = subprocess.run(['lscpu', '--sysroot', root], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=dict(os.environ, LC_ALL='C'), timeout=60)
            if r.returncode != 0:
                run.fail(label + ' [live lscpu]', 'lscpu failed: %s' % r.stderr.decode(errors='replace'))
            else:
                guarded(run, label, lambda: ul_compare(run, label + ' [live lscpu]', name, tree, cg,
                                                       parse_lscpu_block(r.stdout.decode()), live=True))
        else:
            run.skip(label + ' [live lscpu]', 'lscpu not installed')


# --------------------------------------------------------------------------

RNG = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--oracles', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--results', required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='cgp-oracle.', dir=H.scratch_base()) as snap:
        return run_all(Runner(H.snapshot(a.bin, snap), a.results), a)


def run_all(run, a):
    global RNG
    O = os.path.abspath(a.oracles)
    work = os.path.abspath(a.work)
    RNG = H.CAPABILITY_RNG  # validate_rng() skips where it or xmllint is missing
    if not os.path.isdir(O):
        # 4 families; one skip each so the absence is visible in the totals
        for fam in ('libvirt-nodeinfo', 'libvirt-capabilities', 'hwloc', 'util-linux'):
            run.skip('oracle/' + fam, 'oracle directory %s not found (set CGPLACE_ORACLES=DIR); '
                     'all oracle tests skipped' % O)
    else:
        os.makedirs(work, exist_ok=True)
        for fn in (lambda: run_libvirt_nodeinfo(run, O, work),
                   lambda: run_libvirt_caps(run, O, work, RNG),
                   lambda: run_hwloc(run, O, work),
                   lambda: run_utillinux(run, O, work)):
            guarded(run, 'oracle', fn)
    print()
    if run.design:
        print('Deliberate differences (asserted against the sysfs reading): %d' % len(run.design))
    if run.failures:
        print('Failures:')
        for n, m in run.failures:
            print('  FAIL %s: %s' % (n, m))
    return run.finish()


if __name__ == '__main__':
    sys.exit(main())
