# vm-topos: asym-probes
# Probe (c): a TID written to cgroup.threads of a threaded child is REFUSED while the
# process is not yet in that child's threaded domain (its parent); once the PID has been
# written to the domain's cgroup.procs, the same write succeeds.  The errno is recorded
# (see tests/vm/README.md) and pinned here.
import vmtest as T

S = T.scratch("threads")
G = T.cg_mkdir(S + "/guest")
T.cg_enable_cpuset(S + "/guest")
v0 = T.cg_mkdir(S + "/guest/vcpu0", threaded=True)
other = T.cg_mkdir(S + "/elsewhere")
h = T.Helper(0, 1, S + "/elsewhere")
tid = h.tids[0]
err = T.cg_write(v0 + "/cgroup.threads", tid)
T.log("  TID to cgroup.threads of a threaded child outside the process's domain: %s" % (err or "accepted"))
T.check(err in ("EOPNOTSUPP", "EINVAL"), "refused with EOPNOTSUPP or EINVAL (got %s)" % err)
T.eq(err, "EOPNOTSUPP", "errno observed on Linux 6.1")
T.eq(T.task_cgroup(h.pid, tid), other[len(T.CG):], "the thread did not move")
# the same refusal for the main thread's TID (= PID)
err = T.cg_write(v0 + "/cgroup.threads", h.pid)
T.eq(err, "EOPNOTSUPP", "PID written to cgroup.threads of a foreign threaded child")
# the process in the root cgroup is also foreign to the domain
T.eq(T.cg_write(T.CG + "/cgroup.procs", h.pid), None, "move the process back to the root")
T.eq(T.cg_write(v0 + "/cgroup.threads", tid), "EOPNOTSUPP", "from the root cgroup: refused the same way")
# positive control: after cgroup.procs of the domain, the thread write succeeds
T.cg_must(G + "/cgroup.procs", h.pid)
T.eq(T.cg_write(v0 + "/cgroup.threads", tid), None, "after the PID is in the domain, cgroup.threads accepts the TID")
T.eq(T.task_cgroup(h.pid, tid), v0[len(T.CG):], "the thread moved into vcpu0")
T.finish()
