#!/usr/bin/env python3
"""Golden tests of the policy language: tests/policy/golden.py BIN FIXDIR RESULTS [CRITERION_BIN]

Every case writes its policy file(s) into a fresh directory, runs
`cgplace --sysroot FIXDIR/FIXTURE [--json] check p.conf` there (so messages
read p.conf:LINE:COL) and compares the exit code, the exact stderr lines and
the resolved placement of `check --json`. Expected values are worked out by
hand from the fixture definitions in tests/fixtures/mkfixtures.py (the
reasoning is in each case's comment), not copied from the program's output.
Then CRITERION_BIN (tests/policy/test_solver.c) runs, counted through --tap.
Running cgplace, comparing, the FAIL blocks and the counts are
tests/golden/harness.py's; writes "PASSED FAILED SKIPPED" to RESULTS.
"""
import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import harness as H  # noqa: E402

GUEST_SPEC = """guest rhel5xen {
    match name "rhel5xen";
    vcpus 4;
    cpus 4-7;
    memory 3G nodes 1 mode strict;
    vcpupin 0 4;
    vcpupin 1 5;
    vcpupin 2 6;
    vcpupin 3 7;
    emulatorpin 4-7;
}
"""

UNIT_MSG = "needs a unit: K, M, G or T (powers of 1024; KiB, MiB, GiB, TiB accepted)"


def vc(n, cpus, mems):
    return [{"vcpu": i, "cpus": cpus, "mems": mems} for i in range(n)]


CASES = [
    # ---------------------------------------------------------------- valid
    # one-node: 4 CPUs 0-3 on node 0 with memory: defaults are all CPUs, node 0.
    dict(name="v_minimal", fx="one-node", files={"p.conf": "guest a { vcpus 2; }\n"}, rc=0,
         guests=[dict(name="a", running=False, cpus="0-3", mems="0", mode="strict",
                      emulator={"cpus": "0-3", "mems": "0"}, vcpus=vc(2, "0-3", "0"), iothreads=[])]),
    # two-socket-smt: node 1 = CPUs 4-7,12-15; the seed's guest pinned 1:1.
    dict(name="v_seed", fx="two-socket-smt", files={"p.conf": GUEST_SPEC}, rc=0,
         guests=[dict(name="rhel5xen", cpus="4-7", mems="1", mode="strict",
                      emulator={"cpus": "4-7", "mems": "1"},
                      vcpus=[{"vcpu": i, "cpus": str(4 + i), "mems": "1"} for i in range(4)])]),
    # reserve cpus 0 leaves 1-3 as the default set.
    dict(name="v_reserve_default", fx="one-node",
         files={"p.conf": "host { reserve cpus 0; }\nguest a { vcpus 1; }\n"}, rc=0,
         guests=[dict(name="a", cpus="1-3", mems="0")]),
    # cpus node 1 = 4-7,12-15; local memory = node 1 itself.
    dict(name="v_cpus_node", fx="two-socket-smt",
         files={"p.conf": "guest a { vcpus 2; cpus node 1; memory 1G; }\n"}, rc=0,
         guests=[dict(name="a", cpus="4-7,12-15", mems="1")]),
    # memless-cpu: node 1 (CPUs 4-7) has no memory; the nearest with memory is node 0.
    dict(name="v_memless_local", fx="memless-cpu",
         files={"p.conf": "guest a { vcpus 2; cpus node 1; memory 1G nodes local; }\n"}, rc=0,
         guests=[dict(name="a", cpus="4-7", mems="0")]),
    # asym: node 2 (CPUs 6-7) has no memory; SLIT from 2: node1=12 < node0=20 < node3=28,
    # and node 3's HMAT initiator is node 0, not 2 -> node 1.
    dict(name="v_cpuonly_slit", fx="asym",
         files={"p.conf": "guest a { vcpus 2; cpus node 2; memory 256M; }\n"}, rc=0,
         guests=[dict(name="a", cpus="6-7", mems="1")]),
    # cpuless-mem: a memory-only node is a valid explicit target.
    dict(name="v_memonly_target", fx="cpuless-mem",
         files={"p.conf": "guest a { vcpus 2; cpus node 0; memory 4G nodes 2; }\n"}, rc=0,
         guests=[dict(name="a", cpus="0-3", mems="2", emulator={"cpus": "0-3", "mems": "2"})]),
    # asym auto, 2 vCPUs 512M: node 1 (2 CPUs, 1 GiB) fits with no vCPU left over.
    dict(name="v_auto_best_fit", fx="asym",
         files={"p.conf": "guest a { vcpus 2; cpus auto; memory 512M nodes auto; }\n"}, rc=0,
         guests=[dict(name="a", cpus="4-5", mems="1")]),
    # bigger guest placed first (memory order): big 4 vCPUs 3G -> node 0 (4 CPUs,
    # 4 GiB); small 2 vCPUs 512M -> node 1.
    dict(name="v_auto_order", fx="asym",
         files={"p.conf": "guest small { vcpus 2; cpus auto; memory 512M; }\n"
                          "guest big { vcpus 4; cpus auto; memory 3G nodes auto; }\n"}, rc=0,
         guests=[dict(name="small", cpus="4-5", mems="1"), dict(name="big", cpus="0-3", mems="0")],
         # 3 GiB = 3145728 KiB > node 0's MemFree 2987520 KiB
         warnings=["p.conf:2:33: warning: node 0: guests up to 'big' (not running yet) need 3 GiB there, "
                   "more than its MemFree 2987520 KiB now"]),
    # 6 vCPUs fit no single node of asym (4,2,2 CPUs): node 0 + its nearest CPU node
    # (1 and 2 both at 21 -> lower id 1) gives 6; memory 1G on node 0.
    dict(name="v_auto_multi", fx="asym",
         files={"p.conf": "guest a { vcpus 6; cpus auto; memory 1G; }\n"}, rc=0,
         guests=[dict(name="a", cpus="0-5", mems="0")]),
    # overcommit 2: node 0 takes 8 vCPUs on its 4 CPUs.
    dict(name="v_overcommit", fx="asym",
         files={"p.conf": "host { overcommit 2; }\nguest a { vcpus 8; cpus auto; memory 1G; }\n"}, rc=0,
         guests=[dict(name="a", cpus="0-3", mems="0")]),
    # restrictive: each vCPU gets its cell's nodes, the emulator the union.
    dict(name="v_restrictive_cells", fx="cpuless-mem",
         files={"p.conf": "guest a {\n vcpus 4;\n cpus node 0;\n memory 8G nodes 0 mode restrictive;\n"
                          " cell 0 { vcpus 0-1; memory 4G nodes 0; }\n"
                          " cell 1 { vcpus 2-3; memory 4G nodes 2; }\n}\n"}, rc=0,
         guests=[dict(name="a", cpus="0-3", mems="0,2", mode="restrictive",
                      emulator={"cpus": "0-3", "mems": "0,2"},
                      vcpus=vc(2, "0-3", "0") + [{"vcpu": i, "cpus": "0-3", "mems": "2"} for i in (2, 3)])]),
    # include with a glob: files read in sorted order (a before b).
    dict(name="v_include_sorted", fx="one-node",
         files={"p.conf": 'include "sub/*.conf";\n', "sub/b.conf": "guest b { vcpus 1; }\n",
                "sub/a.conf": "guest a { vcpus 1; }\n"}, rc=0,
         guests=[dict(name="a"), dict(name="b")]),
    # an include glob that matches nothing is fine (empty policy.d).
    dict(name="v_include_empty_glob", fx="one-node",
         files={"p.conf": 'include "none/*.conf";\nguest a { vcpus 1; }\n'}, rc=0,
         guests=[dict(name="a")]),
    # sparse-ids: node 4 has CPUs 4-5 (package 2).
    dict(name="v_sparse", fx="sparse-ids",
         files={"p.conf": "guest a { vcpus 1; cpus node 4; memory 1G; }\n"}, rc=0,
         guests=[dict(name="a", cpus="4-5", mems="4")]),
    # offline-cpu: CPUs 3 and 6 offline -> default CPUs 0-2,4-5,7.
    dict(name="v_offline_default", fx="offline-cpu", files={"p.conf": "guest a { vcpus 2; }\n"}, rc=0,
         guests=[dict(name="a", cpus="0-2,4-5,7", mems="0")]),
    # I/O thread pin and a quoted name match with escapes.
    dict(name="v_iothread", fx="two-socket-smt",
         files={"p.conf": 'guest a { match name "a\\"b"; vcpus 1; cpus 4-7; iothreadpin 1 4-5; }\n'}, rc=0,
         guests=[dict(name="a", iothreads=[{"id": "1", "cpus": "4-5", "mems": "1"}])]),
    dict(name="v_preferred", fx="one-node",
         files={"p.conf": "guest a { vcpus 1; memory 1G nodes 0 mode preferred; }\n"}, rc=0,
         guests=[dict(name="a", mode="preferred", mems="0")]),
    # one-node: 7 GiB = 7340032 KiB fits MemTotal 8030704 but not MemFree 6123456.
    dict(name="v_warn_memfree", fx="one-node",
         files={"p.conf": "guest a { vcpus 1;\n  memory 7G nodes 0; }\n"}, rc=0,
         guests=[dict(name="a")],
         warnings=["p.conf:2:3: warning: node 0: guests up to 'a' (not running yet) need 7 GiB there, "
                   "more than its MemFree 6123456 KiB now"]),
    # ---------------------------------------------------------------- invalid
    dict(name="e_size_unit", fx="one-node",
         files={"p.conf": "guest a {\n  vcpus 1;\n  memory 512 nodes 0;\n}\n"}, rc=2,
         err=["p.conf:3:10: error: size '512' " + UNIT_MSG]),
    dict(name="e_missing_semi", fx="one-node",
         files={"p.conf": "guest a {\n  vcpus 4\n  cpus 0-1;\n}\n"}, rc=2,
         err=["p.conf:3:3: error: expected ';' after 'vcpus N', got 'cpus'"]),
    dict(name="e_unknown_guest_stmt", fx="one-node",
         files={"p.conf": "guest a {\n  vcpus 1;\n  cpu 0;\n}\n"}, rc=2,
         err=["p.conf:3:3: error: unknown guest statement 'cpu': expected match, vcpus, cpus, memory, "
              "vcpupin, emulatorpin, iothreadpin or cell"]),
    dict(name="e_unknown_top", fx="one-node",
         files={"p.conf": "gust a { vcpus 1; }\nguest b { vcpus 1; }\n"}, rc=2,
         err=["p.conf:1:1: error: unknown statement 'gust': expected include, host or guest"]),
    dict(name="e_bad_name", fx="one-node", files={"p.conf": "guest .hidden { vcpus 1; }\n"}, rc=2,
         err=["p.conf:1:7: error: invalid guest name '.hidden': expected 1-64 of [A-Za-z0-9_.-], not "
              "starting with '.' or '-' (it becomes a cgroup directory name)"]),
    dict(name="e_parent_dotdot", fx="one-node",
         files={"p.conf": "host { parent \"vms/../etc\"; }\nguest a { vcpus 1; }\n"}, rc=2,
         err=["p.conf:1:15: error: invalid parent 'vms/../etc': expected a relative cgroup path of names made of "
              "[A-Za-z0-9_.-], not starting with '.' or '-' nor named like a cgroup interface file "
              "(cgroup.*, cpuset.*, memory.* ...)"]),
    # names the kernel's interface files take: the directory would collide (issue 10, problem 8)
    dict(name="e_interface_names", fx="one-node",
         files={"p.conf": "guest cpuset.cpus { vcpus 1; }\nguest cgroup.procs { vcpus 1; }\n"
                          "guest memory.high { vcpus 1; }\nguest web.1 { vcpus 1; }\nguest cpux.1 { vcpus 1; }\n"}, rc=2,
         err=["p.conf:1:7: error: invalid guest name 'cpuset.cpus': 'cpuset.' starts the names of cgroup interface "
              "files (cgroup.*, cpuset.*, cpu.*, memory.*, io.*, pids.* ...), so its cgroup directory would collide "
              "with them",
              "p.conf:2:7: error: invalid guest name 'cgroup.procs': 'cgroup.' starts the names of cgroup interface "
              "files (cgroup.*, cpuset.*, cpu.*, memory.*, io.*, pids.* ...), so its cgroup directory would collide "
              "with them",
              "p.conf:3:7: error: invalid guest name 'memory.high': 'memory.' starts the names of cgroup interface "
              "files (cgroup.*, cpuset.*, cpu.*, memory.*, io.*, pids.* ...), so its cgroup directory would collide "
              "with them"]),
    dict(name="e_parent_interface", fx="one-node",
         files={"p.conf": "host { parent \"vms/cpuset.cpus\"; }\nguest a { vcpus 1; }\n"}, rc=2,
         err=["p.conf:1:15: error: invalid parent 'vms/cpuset.cpus': expected a relative cgroup path of names made "
              "of [A-Za-z0-9_.-], not starting with '.' or '-' nor named like a cgroup interface file "
              "(cgroup.*, cpuset.*, memory.* ...)"]),
    dict(name="e_cpu_missing", fx="one-node",
         files={"p.conf": "guest a { vcpus 1; cpus 0-7; }\n"}, rc=2,
         err=["p.conf:1:25: error: CPUs 4-7 do not exist on this host (present CPUs: 0-3)"]),
    dict(name="e_cpu_offline", fx="offline-cpu",
         files={"p.conf": "guest a { vcpus 1; cpus 2-3; }\n"}, rc=2,
         err=["p.conf:1:25: error: CPU 3 is offline"]),
    dict(name="e_reserved", fx="one-node",
         files={"p.conf": "host {\n    reserve cpus 0-1;\n}\nguest a { vcpus 1; cpus 1-2; }\n"}, rc=2,
         err=["p.conf:4:25: error: CPU 1 is reserved for the host ('reserve cpus' at p.conf:2:5)"]),
    dict(name="e_node_no_cpus", fx="cpuless-mem",
         files={"p.conf": "guest a { vcpus 1; cpus node 2; }\n"}, rc=2,
         err=["p.conf:1:30: error: node 2 has no CPUs (it is memory-only); 'cpus node' needs a node with CPUs"]),
    dict(name="e_mem_no_memory", fx="memless-cpu",
         files={"p.conf": "guest a { vcpus 1; memory 1G nodes 1; }\n"}, rc=2,
         err=["p.conf:1:36: error: node 1 has no memory (it is CPU-only); a memory target needs a node with memory"]),
    dict(name="e_node_missing", fx="two-socket-smt",
         files={"p.conf": "guest a { vcpus 1; memory 1G nodes 3; }\n"}, rc=2,
         err=["p.conf:1:36: error: node 3 does not exist on this host (nodes: 0-1)"]),
    dict(name="e_vcpupin_range", fx="one-node",
         files={"p.conf": "guest a { vcpus 2; vcpupin 2 0; }\n"}, rc=2,
         err=["p.conf:1:28: error: vCPU 2 is out of range: guest 'a' has 2 vCPUs (0-1)"]),
    dict(name="e_pin_outside", fx="one-node",
         files={"p.conf": "guest a { vcpus 2; cpus 0-1; vcpupin 0 2; }\n"}, rc=2,
         err=["p.conf:1:40: error: CPU 2 is not within guest 'a''s cpus 0-1"]),
    dict(name="e_cells_overlap", fx="cpuless-mem",
         files={"p.conf": "guest a {\n vcpus 4;\n memory 2G nodes 0;\n cell 0 { vcpus 0-1; memory 1G nodes 0; }\n"
                          " cell 1 { vcpus 1-3; memory 1G nodes 2; }\n}\n"}, rc=2,
         err=["p.conf:5:17: error: cell 1 shares vCPU 1 with another cell (cells must not share vCPUs)"]),
    dict(name="e_cells_sum", fx="cpuless-mem",
         files={"p.conf": "guest a {\n vcpus 2;\n memory 4G nodes 0;\n cell 0 { vcpus 0; memory 1G nodes 0; }\n"
                          " cell 1 { vcpus 1; memory 1G nodes 2; }\n}\n"}, rc=2,
         err=["p.conf:3:2: error: the cells' memory adds up to 2 GiB, not the guest's 4 GiB"]),
    # asym node 1 has MemTotal 1 GiB.
    dict(name="e_strict_overflow", fx="asym",
         files={"p.conf": "guest a { vcpus 1; cpus 4-5; memory 2G nodes 1; }\n"}, rc=2,
         err=["p.conf:1:30: error: node 1 cannot hold the memory bound to it: guests up to 'a' need 2 GiB "
              "there, more than its MemTotal 1 GiB minus the reserve 0 KiB"]),
    dict(name="e_duplicate_guest", fx="one-node",
         files={"p.conf": "guest a { vcpus 1; }\nguest a { vcpus 2; }\n"}, rc=2,
         err=["p.conf:2:1: error: duplicate guest 'a' (first defined at p.conf:1:1)"]),
    dict(name="e_overlap_match", fx="one-node",
         files={"p.conf": 'guest a { match name "x"; vcpus 1; }\nguest b { match name "x"; vcpus 1; }\n'},
         rc=2,
         err=["p.conf:2:11: error: guests 'b' and 'a' (at p.conf:1:1) can match the same process (both match "
              "name \"x\"); add a match line that tells them apart"]),
    # asym has 8 CPUs; 16 vCPUs at overcommit 1 fit nowhere.
    dict(name="e_no_placement", fx="asym",
         files={"p.conf": "guest big {\n  vcpus 16;\n  cpus auto;\n  memory 1G;\n}\n"}, rc=2,
         err=["p.conf:3:3: error: no placement exists for guest 'big' (16 vCPUs, 1 GiB): no set of nodes has "
              "enough free vCPU capacity (overcommit 1.000) and memory after the reserve and the guests "
              "placed before it"]),
    dict(name="e_unterminated", fx="one-node",
         files={"p.conf": 'guest a { match name "abc;\n vcpus 1; }\n'}, rc=2,
         err=["p.conf:1:22: error: unterminated string: expected a closing '\"' before the end of the line"]),
    dict(name="e_include_cycle", fx="one-node",
         files={"p.conf": 'include "q.conf";\n', "q.conf": 'include "p.conf";\n'}, rc=2,
         err=["q.conf:1:1: error: cannot include 'p.conf': include cycle (the file is already being read)"]),
    dict(name="e_include_dir", fx="one-node",
         files={"p.conf": 'include "sub";\n', "sub/x.conf": "\n"}, rc=2,
         err=["p.conf:1:1: error: cannot include 'sub': is a directory"]),
    dict(name="e_include_fifo", fx="one-node",
         files={"p.conf": 'include "fifo";\n', "fifo": None}, rc=2,
         err=["p.conf:1:1: error: cannot include 'fifo': is not a regular file"]),
    dict(name="e_include_devzero", fx="one-node",
         files={"p.conf": 'include "/dev/zero";\n'}, rc=2,
         err=["p.conf:1:1: error: cannot include '/dev/zero': is not a regular file"]),
    # policy files may be symbolic links (config management, NixOS); what a
    # link leads to is checked like any file
    # (relative includes are taken from the directory of the path as named, the link's)
    dict(name="s_symlinked_policy", fx="one-node",
         files={"real/p.conf": 'include "g.conf";\n', "real/g.conf": "guest wrong { vcpus 1; cpus 0; }\n",
                "g.conf": "guest a { vcpus 1; cpus 0; }\n", "p.conf": ("->", "real/p.conf")}, rc=0,
         guests=[{"name": "a", "cpus": "0"}]),
    dict(name="s_symlinked_include", fx="one-node",
         files={"p.conf": 'include "l.conf";\n', "l.conf": ("->", "sub/g.conf"),
                "sub/g.conf": "guest a { vcpus 1; cpus 0; }\n"}, rc=0,
         guests=[{"name": "a", "cpus": "0"}]),
    dict(name="e_symlink_to_devzero", fx="one-node",
         files={"p.conf": 'include "z";\n', "z": ("->", "/dev/zero")}, rc=2,
         err=["p.conf:1:1: error: cannot include 'z': is not a regular file"]),
    dict(name="e_symlink_loop", fx="one-node",
         files={"p.conf": 'include "a";\n', "a": ("->", "b"), "b": ("->", "a")}, rc=2,
         err=["p.conf:1:1: error: cannot include 'a': too many levels of symbolic links"]),
    dict(name="e_include_depth", fx="one-node",
         files=dict([("p.conf", 'include "i1.conf";\n')] +
                    [("i%d.conf" % i, 'include "i%d.conf";\n' % (i + 1)) for i in range(1, 10)]), rc=2,
         err=["i8.conf:1:1: error: cannot include 'i9.conf': includes nested more than 8 levels deep"]),
    # every error of a file is reported, not just the first
    dict(name="e_several", fx="one-node",
         files={"p.conf": "guest a {\n  vcpus x;\n  memory 1 nodes 0;\n  frob;\n}\n"}, rc=2,
         err=["p.conf:2:9: error: expected a vCPU count (an integer from 1 to 16384), got 'x'",
              "p.conf:3:10: error: size '1' " + UNIT_MSG,
              "p.conf:4:3: error: unknown guest statement 'frob': expected match, vcpus, cpus, memory, "
              "vcpupin, emulatorpin, iothreadpin or cell"]),
    dict(name="e_unclosed", fx="one-node", files={"p.conf": "guest a {\n  vcpus 1;\n"}, rc=2,
         err=["p.conf:3:1: error: expected '}' to close the guest block opened at p.conf:1:1, got end of file"]),
    dict(name="e_no_vcpus", fx="one-node", files={"p.conf": "guest a { memory 1G; }\n"}, rc=2,
         err=["p.conf:1:1: error: guest 'a' has no 'vcpus N;' statement (the number of vCPUs is required)"]),
    dict(name="e_bad_list", fx="one-node", files={"p.conf": "guest a { vcpus 1; cpus 0-x; }\n"}, rc=2,
         err=["p.conf:1:27: error: invalid list '0-x': expected items N, N-M, ^N or ^N-M separated by commas"]),
    # the host's backend and the slice of its scopes
    dict(name="s_backend_systemd", fx="one-node",
         files={"p.conf": 'host { backend systemd; slice "vm-numa.slice"; }\nguest a { vcpus 1; cpus 0; }\n'}, rc=0,
         guests=[{"name": "a", "cpus": "0"}]),
    dict(name="e_backend_word", fx="one-node", files={"p.conf": "host { backend libvirt; }\n"}, rc=2,
         err=["p.conf:1:16: error: expected 'auto', 'cgroupfs' or 'systemd' after 'backend', got 'libvirt'"]),
    dict(name="e_backend_twice", fx="one-node", files={"p.conf": "host {\n backend auto;\n backend systemd;\n}\n"},
         rc=2, err=["p.conf:3:2: error: duplicate 'backend' (first given at p.conf:2:2)"]),
    dict(name="e_slice_name", fx="one-node", files={"p.conf": 'host { slice "a--b.slice"; }\n'}, rc=2,
         err=["p.conf:1:14: error: invalid slice 'a--b.slice': expected NAME.slice, NAME made of [A-Za-z0-9_.-] "
              "('-' nests slices: a-b.slice is inside a.slice)"]),
    dict(name="e_slice_suffix", fx="one-node", files={"p.conf": "host { slice machine; }\n"}, rc=2,
         err=["p.conf:1:14: error: invalid slice 'machine': expected NAME.slice, NAME made of [A-Za-z0-9_.-] "
              "('-' nests slices: a-b.slice is inside a.slice)"]),
    dict(name="e_confine_no_reserve", fx="one-node", files={"p.conf": "host {\n  confine host;\n}\n"}, rc=2,
         err=["p.conf:2:3: error: 'confine host' needs 'reserve cpus LIST': the host is confined to the reserved CPUs"]),
    # how libvirt's guests are placed
    dict(name="s_libvirt_persist", fx="one-node",
         files={"p.conf": "host { libvirt persist; }\nguest a { vcpus 1; cpus 0; }\n"}, rc=0,
         guests=[{"name": "a", "cpus": "0"}]),
    dict(name="machined_yes", fx="one-node",
         files={"p.conf": "host { machined yes; }\nguest a { vcpus 1; cpus 0; }\n"}, rc=0,
         guests=[{"name": "a", "cpus": "0"}]),
    dict(name="e_machined_word", fx="one-node", files={"p.conf": "host { machined maybe; }\n"}, rc=2,
         err=["p.conf:1:17: error: expected 'yes' or 'no' after 'machined', got 'maybe'"]),
    dict(name="e_machined_twice", fx="one-node", files={"p.conf": "host {\n machined yes;\n machined no;\n}\n"},
         rc=2, err=["p.conf:3:2: error: duplicate 'machined' (first given at p.conf:2:2)"]),
    dict(name="e_libvirt_word", fx="one-node", files={"p.conf": "host { libvirt config; }\n"}, rc=2,
         err=["p.conf:1:16: error: expected 'live' or 'persist' after 'libvirt', got 'config'"]),
    dict(name="e_libvirt_twice", fx="one-node", files={"p.conf": "host {\n libvirt live;\n libvirt persist;\n}\n"},
         rc=2, err=["p.conf:3:2: error: duplicate 'libvirt' (first given at p.conf:2:2)"]),
    # who counts as a guest, QMP's deadline (issue 10; docs/cgplace.conf.5)
    dict(name="trust_stmts", fx="one-node",
         files={"p.conf": "host {\n qemu-binaries /usr/bin/qemu-system-* \"/opt/q/bin/qemu-*\";\n"
                          " guest-users libvirt-qemu 107;\n qmp-timeout 500ms;\n}\n"
                          "guest a { match user qemu; vcpus 1; cpus 0; }\n"}, rc=0,
         guests=[{"name": "a", "cpus": "0"}]),
    dict(name="e_qemu_binaries_relative", fx="one-node", files={"p.conf": "host { qemu-binaries qemu-*; }\n"}, rc=2,
         err=["p.conf:1:22: error: expected absolute paths or globs of QEMU executables, got 'qemu-*'"]),
    dict(name="e_qemu_binaries_empty", fx="one-node", files={"p.conf": "host { qemu-binaries; }\n"}, rc=2,
         err=["p.conf:1:21: error: expected absolute paths or globs of QEMU executables, got ';'"]),
    dict(name="e_guest_users_twice", fx="one-node",
         files={"p.conf": "host {\n guest-users a;\n guest-users b;\n}\n"}, rc=2,
         err=["p.conf:3:2: error: duplicate 'guest-users' (first given at p.conf:2:2)"]),
    dict(name="e_qmp_timeout_unit", fx="one-node", files={"p.conf": "host { qmp-timeout 5; }\n"}, rc=2,
         err=["p.conf:1:20: error: expected a duration from 1ms to 60s ('500ms', '2s'), got '5'"]),
    dict(name="e_qmp_timeout_long", fx="one-node", files={"p.conf": "host { qmp-timeout 61s; }\n"}, rc=2,
         err=["p.conf:1:20: error: expected a duration from 1ms to 60s ('500ms', '2s'), got '61s'"]),
    dict(name="e_match_user_bad", fx="one-node", files={"p.conf": "guest a { match user \"a b\"; vcpus 1; }\n"},
         rc=2, err=["p.conf:1:22: error: expected a user name or uid after 'match user', got 'a b'"]),
    dict(name="e_dup_stmt", fx="one-node", files={"p.conf": "guest a {\n vcpus 1;\n vcpus 2;\n}\n"}, rc=2,
         err=["p.conf:3:2: error: duplicate 'vcpus' (first given at p.conf:2:2)"]),
]


def subset(exp, got, path=""):
    """Every key of exp is in got with an equal value (recursively for dicts)."""
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return ["%s: expected an object, got %r" % (path, got)]
        out = []
        for k, v in exp.items():
            if k not in got:
                out.append("%s.%s: missing" % (path, k))
            else:
                out += subset(v, got[k], path + "." + k)
        return out
    return [] if exp == got else ["%s: expected %r, got %r" % (path, exp, got)]


def write_files(d, files):
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if text is None:
            os.mkfifo(p)
        elif isinstance(text, tuple):        # ("->", TARGET): a symbolic link
            os.symlink(text[1], p)
        else:
            with open(p, "w") as f:
                f.write(text)


def run_case(cli, fixdir, c):
    fails = []
    with tempfile.TemporaryDirectory() as d:
        write_files(d, c["files"])
        root = os.path.join(fixdir, c["fx"])
        r = cli.run("--json", "check", "p.conf", sysroot=root, cwd=d, timeout=20)
        fails += H.compare(r, rc=c["rc"], err=c.get("err"))
        if r.rc != c["rc"] and "err" not in c:
            fails.append(H.indent(r.err, "stderr: ", 8))
        if c["rc"] == 0 and not r.timed_out:
            try:
                doc = json.loads(r.out)
            except ValueError:
                return fails + ["stdout is not JSON: %r" % r.out[:200]]
            gs = doc.get("guests", [])
            if len(gs) != len(c["guests"]):
                fails.append("%d guests, expected %d" % (len(gs), len(c["guests"])))
            for i, eg in enumerate(c["guests"][:len(gs)]):
                fails += subset(eg, gs[i], "guests[%d]" % i)
            if doc.get("warnings") != c.get("warnings", []):
                fails.append("warnings %r, expected %r" % (doc.get("warnings"), c.get("warnings", [])))
            # the text mode agrees on the exit status and prints no errors
            r2 = cli.run("check", "p.conf", sysroot=root, cwd=d, timeout=20)
            if r2.rc != 0 or "error" in r2.err:
                fails.append("text mode: exit %s, stderr %r" % (r2.rc, r2.err))
    return fails


def plan_cases(cli, fixdir):
    """plan --json over an empty tree: ops derived from spec §6 by hand."""
    fails = []
    with tempfile.TemporaryDirectory() as d:
        write_files(d, {"p.conf": "host { parent \"vms\"; }\nguest g { vcpus 2; cpus 1-2; "
                                  "memory 1G nodes 0 mode interleave; iothreadpin io 1; }\n"})
        r = cli.run("--json", "plan", "p.conf", sysroot=os.path.join(fixdir, "one-node"), cwd=d, timeout=20)
        if r.rc != 0:
            return ["plan: exit %s: %s" % (r.rc, r.err)]
        ops = json.loads(r.out)["ops"]
        seq = [(o["op"], o["path"], o.get("file"), o.get("value")) for o in ops]
        W = lambda path, f, v: ("write", path, f, v)
        M = lambda path: ("mkdir", path, None, None)
        exp = [W("", "cgroup.subtree_control", "+cpuset"), M("vms"), W("vms", "cgroup.subtree_control", "+cpuset"),
               M("vms/g"), W("vms/g", "cpuset.cpus", "1-2"), W("vms/g", "cpuset.mems", "0"),
               M("vms/g/emulator"), W("vms/g/emulator", "cgroup.type", "threaded"),
               M("vms/g/vcpu0"), W("vms/g/vcpu0", "cgroup.type", "threaded"),
               M("vms/g/vcpu1"), W("vms/g/vcpu1", "cgroup.type", "threaded"),
               M("vms/g/iothread-io"), W("vms/g/iothread-io", "cgroup.type", "threaded"),
               W("vms/g", "cgroup.subtree_control", "+cpuset"),
               W("vms/g/emulator", "cpuset.cpus", "1-2"), W("vms/g/emulator", "cpuset.mems", "0"),
               W("vms/g/vcpu0", "cpuset.cpus", "1-2"), W("vms/g/vcpu0", "cpuset.mems", "0"),
               W("vms/g/vcpu1", "cpuset.cpus", "1-2"), W("vms/g/vcpu1", "cpuset.mems", "0"),
               W("vms/g/iothread-io", "cpuset.cpus", "1"), W("vms/g/iothread-io", "cpuset.mems", "0")]
        if seq != exp:
            fails.append("plan ops differ:\n" + H.diff([repr(x) for x in exp], [repr(x) for x in seq],
                                                      "expected ops", "actual ops"))
        if not any("interleave" in (o.get("note") or "") for o in ops):
            fails.append("plan: no op notes that interleave needs exec")
        # systemd: the scope is started over D-Bus with its envelope; cgplace
        # writes only below it (nothing at the root or in the slice)
        write_files(d, {"s.conf": "host { backend systemd; slice \"vm-numa.slice\"; }\n"
                                  "guest g { vcpus 1; cpus 1-2; memory 1G nodes 0; }\n"})
        r = cli.run("--json", "plan", "s.conf", sysroot=os.path.join(fixdir, "one-node"), cwd=d, timeout=20)
        if r.rc != 0:
            return fails + ["plan (systemd): exit %s: %s" % (r.rc, r.err)]
        ops = json.loads(r.out)["ops"]
        seq = [(o["op"], o.get("call") or o["path"], o.get("unit") or o.get("file"), o.get("value")) for o in ops]
        S = "vm.slice/vm-numa.slice/cgplace-g.scope"
        exp = [("dbus", "StartTransientUnit", "cgplace-g.scope",
                "PIDs=PID Slice=vm-numa.slice Delegate=yes AllowedCPUs=1-2 AllowedMemoryNodes=0"),
               M(S + "/g"), W(S, "cgroup.subtree_control", "+cpuset"),
               M(S + "/g/emulator"), W(S + "/g/emulator", "cgroup.type", "threaded"),
               M(S + "/g/vcpu0"), W(S + "/g/vcpu0", "cgroup.type", "threaded"),
               W(S + "/g", "cgroup.subtree_control", "+cpuset"),
               W(S + "/g/emulator", "cpuset.cpus", "1-2"), W(S + "/g/emulator", "cpuset.mems", "0"),
               W(S + "/g/vcpu0", "cpuset.cpus", "1-2"), W(S + "/g/vcpu0", "cpuset.mems", "0")]
        if seq != exp:
            fails.append("plan (systemd) ops differ:\n" + H.diff([repr(x) for x in exp], [repr(x) for x in seq],
                                                                "expected ops", "actual ops"))
    return fails


def suggest_cases(cli, fixdir):
    """suggest on asym: 2 vCPUs 512M -> node 1 (2 CPUs, 1 GiB: nothing left over)."""
    fails = []
    asym = os.path.join(fixdir, "asym")
    r = cli.run("--json", "suggest", "--vcpus", "2", "--memory", "512M", sysroot=asym, timeout=20)
    if r.rc != 0:
        return ["suggest: exit %s %s" % (r.rc, r.err)]
    d = json.loads(r.out)
    if (d["cpus"], d["mems"]) != ("4-5", "1"):
        fails.append("suggest asym 2/512M: got %s/%s, expected 4-5/1" % (d["cpus"], d["mems"]))
    if "<vcpu placement='static' cpuset='4-5'>2</vcpu>" not in d["libvirt"] or "nodeset='1'" not in d["libvirt"]:
        fails.append("suggest: libvirt snippet %r" % d["libvirt"])
    r = cli.run("suggest", "--vcpus", "2", "--memory", "512", sysroot=asym, timeout=20)
    if r.rc != 2 or "unit" not in r.err:
        fails.append("suggest --memory 512: exit %s %r (expected 2, a unit is needed)" % (r.rc, r.err))
    # asym node 1 free is 811008 KiB: 1G cannot start there now -> not node 1
    r = cli.run("--json", "suggest", "--vcpus", "2", "--memory", "1G", sysroot=asym, timeout=20)
    if r.rc != 0 or json.loads(r.out)["mems"] == "1":
        fails.append("suggest asym 2/1G: %s %s" % (r.rc, r.out))
    return fails


def example_cases(cli, fixdir):
    """Each shipped example checks on the fixture its comment names."""
    fails = []
    here = os.path.dirname(os.path.abspath(__file__))
    exdir = os.path.join(here, "..", "..", "examples")
    expect = {
        # two-socket-smt node 1 = 4-7,12-15
        "two-socket.conf": ("two-socket-smt", {"rhel5xen": ("4-7,12-15", "1")}),
        # CPU 0 reserved: node 0 leaves 1-3; cells on nodes 0 and 2
        "itanium-memory-node.conf": ("cpuless-mem", {"itanic": ("1-3", "0,2"), "db": ("4-7", "1")}),
        # package 0 SNC nodes 0-1 = cores 0-15 and siblings 512-527, minus reserved 0-1,512-513
        "cxl.conf": ("big-1024", {"imdb": ("2-15,514-527", "0,64"), "archive": ("64-71,576-583", "65")}),
        # node 2 (CPUs 6-7) has no memory: nearest by SLIT is node 1 (12)
        "hbm-flat.conf": ("asym", {"hpc": ("1-3", "0,3"), "edge": ("6-7", "1")}),
    }
    for name, (fx, guests) in expect.items():
        r = cli.run("--json", "check", os.path.join(exdir, name), sysroot=os.path.join(fixdir, fx), timeout=20)
        if r.rc != 0:
            fails.append("%s on %s: exit %s %s" % (name, fx, r.rc, r.err))
            continue
        got = {g["name"]: (g["cpus"], g["mems"]) for g in json.loads(r.out)["guests"]}
        for g, v in guests.items():
            if got.get(g) != v:
                fails.append("%s: guest %s %r, expected %r" % (name, g, got.get(g), v))
    return fails


def main():
    cli, fixdir = H.Cli(os.path.abspath(sys.argv[1])), os.path.abspath(sys.argv[2])
    layer = H.Layer("policy", sys.argv[3])
    for c in CASES:
        layer.check(c["name"], run_case(cli, fixdir, c))
    for name, fn in (("plan", plan_cases), ("suggest", suggest_cases), ("examples", example_cases)):
        try:
            layer.check(name, fn(cli, fixdir))
        except (ValueError, KeyError, TypeError) as e:  # output not as expected: a failure, not a crash
            layer.fail(name, "%s: %s" % (type(e).__name__, e))
    if len(sys.argv) > 4:
        layer.criterion(sys.argv[4], ["-j1"])
    return layer.finish()


if __name__ == "__main__":
    sys.exit(main())
