// ice-bench --cluster: two ice-server nodes sharing one redis-server on loopback, half of the domains
// registered at each. Measures what the cluster adds to one node: queries answered at a node that
// does not hold the domain (a Redis lookup, and a PUBLISH to the owner, which sends the querier's
// record to the domain) against queries at the owning node; the latency of such answers; Redis
// commands per heartbeat in steady state (INFO commandstats); Redis memory per registration
// (INFO memory). See BENCHMARKS.md, "ice-server cluster on Redis".
#pragma once

#include "Bench.h"

struct Workload;

int runClusterBench(const BenchOptions &options, const Workload &work, const QString &keysDir);
