# vm-topos: asym-probes
# Probe (b): threads placed one by one in threaded children (cgroup.threads) are ALL
# pulled back into the domain when the PID is written to the domain's cgroup.procs:
# writing cgroup.procs again undoes per-thread placement.
import vmtest as T

cpus = T.cpus_online()
if len(cpus) < 3:
    T.skip("needs >= 3 CPUs")
S = T.scratch("procs")
G = T.cg_mkdir(S + "/guest")
rel = G[len(T.CG):]
T.cg_enable_cpuset(S + "/guest")
v0 = T.cg_mkdir(S + "/guest/vcpu0", threaded=True)
v1 = T.cg_mkdir(S + "/guest/vcpu1", threaded=True)
T.eq(T.cg_read(G + "/cgroup.type"), "domain threaded", "guest cgroup became 'domain threaded'")
T.cg_must(v0 + "/cpuset.cpus", str(cpus[1]))
T.cg_must(v1 + "/cpuset.cpus", str(cpus[2]))

h = T.Helper(0, 2, S + "/guest")
t0, t1 = h.tids
T.cg_must(v0 + "/cgroup.threads", t0)
T.cg_must(v1 + "/cgroup.threads", t1)
T.eq(T.task_cgroup(h.pid, t0), rel + "/vcpu0", "thread 0 in vcpu0")
T.eq(T.task_cgroup(h.pid, t1), rel + "/vcpu1", "thread 1 in vcpu1")
T.eq(T.parse_list(T.task_status(h.pid, t0)["Cpus_allowed_list"]), [cpus[1]], "thread 0 pinned")
T.eq(T.parse_list(T.task_status(h.pid, t1)["Cpus_allowed_list"]), [cpus[2]], "thread 1 pinned")
T.eq(T.task_cgroup(h.pid), rel, "main thread stays in the domain")
T.eq(sorted(int(x) for x in T.cg_read(v0 + "/cgroup.threads").split()), [t0], "vcpu0/cgroup.threads")

# cgroup.procs of a threaded child: a PID write is accepted and moves EVERY thread there
err = T.cg_write(v0 + "/cgroup.procs", h.pid)
T.log("  writing the PID to a threaded child's cgroup.procs: %s" % (err or "accepted"))
T.eq(err, None, "a threaded child's cgroup.procs accepts a PID of its domain")
for t in [h.pid] + h.tids:
    T.eq(T.task_cgroup(h.pid, t), rel + "/vcpu0", "thread %d moved to vcpu0 with the whole process" % t)

# the PID written again to the domain's cgroup.procs
T.eq(T.cg_write(G + "/cgroup.procs", h.pid), None, "writing the PID again to the domain's cgroup.procs is accepted")
ge = T.parse_list(T.cg_read(G + "/cpuset.cpus.effective"))
for t in [h.pid] + h.tids:
    T.eq(T.task_cgroup(h.pid, t), rel, "thread %d is back in the domain" % t)
    T.eq(T.parse_list(T.task_status(h.pid, t)["Cpus_allowed_list"]), ge, "thread %d lost its pinning" % t)
T.eq(T.cg_read(v0 + "/cgroup.threads"), "", "vcpu0 is empty")
T.eq(T.cg_read(v1 + "/cgroup.threads"), "", "vcpu1 is empty")
T.finish()
