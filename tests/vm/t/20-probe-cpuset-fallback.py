# vm-topos: asym-probes
# Probe (a): a child's cpuset.cpus / cpuset.mems outside its parent's is ACCEPTED by
# write(), reads back as written, and the *effective* set silently falls back to the
# parent's effective set (a partial overlap gives the intersection).  The enforcement
# engine must therefore read back cpuset.*.effective and treat a fallback as a failure.
import vmtest as T

cpus = T.cpus_online()
mems = T.node_state("has_memory")
if len(cpus) < 4 or len(mems) < 2:
    T.skip("needs >= 4 CPUs and >= 2 memory nodes")
S = T.scratch("fallback")
P = T.cg_mkdir(S + "/parent")
T.cg_must(P + "/cpuset.cpus", "%d-%d" % (cpus[0], cpus[1]))
T.cg_must(P + "/cpuset.mems", str(mems[0]))
T.cg_enable_cpuset(S + "/parent")
C = T.cg_mkdir(S + "/parent/child")
pe = T.parse_list(T.cg_read(P + "/cpuset.cpus.effective"))
T.eq(pe, cpus[0:2], "parent cpuset.cpus.effective")

outside = "%d-%d" % (cpus[-2], cpus[-1])
err = T.cg_write(C + "/cpuset.cpus", outside)
T.eq(err, None, "write cpuset.cpus=%s (outside parent %s) is accepted" % (outside, pe))
T.eq(T.parse_list(T.cg_read(C + "/cpuset.cpus")), T.parse_list(outside), "child cpuset.cpus reads back as written")
T.eq(T.parse_list(T.cg_read(C + "/cpuset.cpus.effective")), pe, "child cpuset.cpus.effective falls back to the parent's")

h = T.Helper(0, 0, C[len(T.CG) + 1:])
T.eq(T.parse_list(T.task_status(h.pid)["Cpus_allowed_list"]), pe, "a task in the child may run on the parent's CPUs")

partial = "%d-%d" % (cpus[1], cpus[3])
T.eq(T.cg_write(C + "/cpuset.cpus", partial), None, "write cpuset.cpus=%s (partly outside) is accepted" % partial)
T.eq(T.parse_list(T.cg_read(C + "/cpuset.cpus.effective")), [cpus[1]], "partial overlap: effective = intersection")
T.eq(T.parse_list(T.task_status(h.pid)["Cpus_allowed_list"]), [cpus[1]], "the task follows the intersection")

T.eq(T.cg_write(C + "/cpuset.mems", str(mems[1])), None, "write cpuset.mems=%d (outside parent %d) is accepted" % (mems[1], mems[0]))
T.eq(T.parse_list(T.cg_read(C + "/cpuset.mems")), [mems[1]], "child cpuset.mems reads back as written")
T.eq(T.parse_list(T.cg_read(C + "/cpuset.mems.effective")), [mems[0]], "child cpuset.mems.effective falls back to the parent's")
T.eq(T.parse_list(T.task_status(h.pid)["Mems_allowed_list"]), [mems[0]], "the task's Mems_allowed_list is the parent's")

# emptying cpuset.cpus of a populated cgroup is refused (ENOSPC); once empty of tasks,
# the empty set is accepted and means "inherit": effective = parent's
T.eq(T.cg_write(C + "/cpuset.cpus", ""), "ENOSPC", "emptying cpuset.cpus of a cgroup with a task")
h.kill()
T.eq(T.cg_write(C + "/cpuset.cpus", ""), None, "emptying cpuset.cpus of a cgroup without tasks")
T.eq(T.parse_list(T.cg_read(C + "/cpuset.cpus.effective")), pe, "empty cpuset.cpus: effective = parent's")
# a CPU that does not exist is refused
err = T.cg_write(C + "/cpuset.cpus", str(max(T.cpus_present()) + 100))
T.log("  writing a non-existent CPU: %s" % err)
T.eq(err, "ERANGE", "writing a non-existent CPU is refused")
T.finish()
