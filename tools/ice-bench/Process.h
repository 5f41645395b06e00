// The processes ice-bench measures: start one and wait until it listens, and read its CPU time
// and memory from /proc, so the figures are the server's own and not the client's.
#pragma once

#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>

struct Spawned {
    QProcess process;
    QTemporaryDir logDir;
    quint16 port = 0;

    // Starts program; with a pattern, waits until its log (stderr) matches it and takes the
    // pattern's first capture as the UDP port. False (and the log on stderr) if it does not start.
    bool start(const QString &program, const QStringList &args, const QRegularExpression &listening, int timeoutMs);
    qint64 pid() const { return process.processId(); }
    ~Spawned();
};

// CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat.
double cpuSeconds(qint64 pid);
// CPU seconds of each ice-server worker thread (named ice-worker-N), in order; empty with one thread.
QList<double> workerCpuSeconds(qint64 pid);
// VmRSS in MiB, from /proc/<pid>/status; -1 if unknown.
double rssMiB(qint64 pid);
// The machine's load average over the last minute, from /proc/loadavg; -1 if unknown.
double loadAverage();
// A UDP port on 127.0.0.1 that was free a moment ago (for daemons that cannot report theirs).
quint16 freeUdpPort();
// The same for TCP (redis-server).
quint16 freeTcpPort();
