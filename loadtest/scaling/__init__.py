"""`make bench-scaling`: a bigger server or more servers? Measured, on this machine's stack or on the lab.

A "unit" is a CPU quota (cgroup) of UNIT CPUs. Vertical: one app server of 1..N units, workers scaled
with it, as on a bigger box. Horizontal: 1..N app servers of one unit each behind nginx. Both measure the
app path, with nginx's microcache off; the cached line repeats the horizontal one with it on. nginx,
PostgreSQL and the load generator run outside the caps and their CPU is recorded, so the report can say
when they, not the app, are the wall. Two workloads (the anonymous front page; the locustfile's mix of
readers, writers and API clients); for each point a step load finds the highest throughput whose p95
stays within the SLO. Then one app server is killed mid-step, and each point is priced as the AWS
instances it stands for. The Universal Scalability Law, fitted to each line, says what lies past
this machine. Modules: settings (knobs), workloads, steps (one load step, measured), stack and lab
(the two targets), failure, cost, usl, report; __main__ runs them.
"""
