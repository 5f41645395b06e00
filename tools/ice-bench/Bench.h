// One ice-bench run: the C echo ceiling, then each ice-server transport, then coturn's STUN
// responder, all on the same load generator in the same run, so ratios compare like with like.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

struct BenchOptions {
    QString serverPath;       // ice-server binary
    QString echoPath;         // the C echo (ice-echo)
    QString turnserverPath;   // coturn; empty = skip the peer figure
    QStringList transports;   // ice-server --transport values, measured in this order
    QList<int> threads { 1 }; // ice-server --threads values, measured for each transport
    int domains = 10000;
    double registerRate = 20000; // registration heartbeats per second (the goal's rate)
    double saturateSeconds = 3;
    double latencySeconds = 3;
    int sockets = 4; // client sockets per set
    int window = 64; // requests in flight per socket in the saturation runs
    int signThreads = 2;
};

int runBench(const BenchOptions &options);
