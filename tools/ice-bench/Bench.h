// One ice-bench run: the C echo ceiling, then each ice-server transport, then coturn's STUN
// responder, all on the same load generator in the same run, so ratios compare like with like.
#pragma once

#include "RunMeter.h"

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <netinet/in.h>

struct BenchResult;

struct BenchOptions {
    QString serverPath;       // ice-server binary
    QString echoPath;         // the C echo (ice-echo)
    QString turnserverPath;   // coturn; empty = skip the peer figure
    QStringList transports;   // ice-server --transport values, measured in this order
    QList<int> threads { 1 }; // ice-server --threads values, measured for each transport
    int domains = 10000;
    // Registration heartbeats per second: 20,000 (the goal's rate) for one node; with --cluster,
    // both nodes together, 10,000.
    double registerRate = 20000;
    double saturateSeconds = 3;
    double latencySeconds = 3;
    int sockets = 4; // client sockets per set
    int window = 64; // requests in flight per socket in the saturation runs
    int signThreads = 2;
    // The request kinds measured (saturation and latency), of heartbeat, query, stun; all by default.
    // Registration always runs. Fewer kinds make a profile of one kind (perf record on the server).
    QStringList kinds { "heartbeat", "query", "stun" };
    // --cluster: two ice-server nodes on one redis-server instead of the runs above (ClusterBench.h).
    bool cluster = false;
    QString redisPath;         // redis-server binary; redis-cli is looked up beside it, then on PATH
    double steadySeconds = 40; // the measured steady-state window (a multiple of the 20 s refresh)
    int steadyDomains = 0;     // of the domains, those heartbeating at 1 Hz in the steady state
};

int runBench(const BenchOptions &options);

// 127.0.0.1:port.
sockaddr_in loopback(quint16 port);
// One figure, as a line for people and a "result" line for medians.py; with counters known, where
// the lost datagrams went and the generator's and the idle CPU (RunMeter.h).
void printResult(const QString &target, const QString &what, const BenchResult &r, double cpuSeconds,
                 const RunCounters &counters = RunCounters());
