// Where a run's lost datagrams went and who had the CPU: kernel counters read before and after a
// run. "lost" alone is sent minus answered; the drop counters split it into the target's sockets
// overflowing (requests dropped), the generator's sockets overflowing (answers dropped) and the
// kernel's input backlog, and the generator's CPU and the idle CPU tell whether the target was
// short of CPU because the generator (or something else on the machine) had it.
#pragma once

#include <QtCore/QList>
#include <QtCore/QtGlobal>

// Counts over one run (deltas, not totals).
struct RunCounters {
    bool known = false;         // false when /proc could not be read (e.g. the target exited)
    quint64 serverDrops = 0;    // the target's UDP sockets: requests dropped on arrival (receive buffer full)
    quint64 generatorDrops = 0; // the generator's sockets of the measured set: answers dropped on arrival
    quint64 backlogDrops = 0;   // the kernel's per-CPU input backlog (softnet_stat), whole machine
    double generatorCpu = 0;    // CPU seconds of this process (the load generator)
    double idleCpu = 0;         // CPU seconds no process used, all CPUs together
    double wallSeconds = 0;     // the time the counters cover (the run and its drain)
};

// Reads the counters at construction; counters() gives what changed since.
class RunMeter {
public:
    // targetPid: the measured process (its sockets are found through /proc/PID/fd); generatorFds:
    // this process's sockets whose drops are lost answers.
    RunMeter(qint64 targetPid, const QList<int> &generatorFds);
    RunCounters counters() const;

private:
    RunCounters read() const;

    qint64 _pid;
    QList<quint64> _generatorInodes;
    RunCounters _start;
};

// The socket inodes a process holds (/proc/PID/fd -> socket:[inode]).
QList<quint64> socketInodes(qint64 pid);
// The kernel's receive drops summed over a set of UDP socket inodes, from /proc/net/udp and udp6 (the
// "drops" column: mostly datagrams refused because the receive buffer was full). *ok: a table was read.
quint64 udpDrops(const QList<quint64> &inodes, bool *ok = nullptr);
// Datagrams dropped because a CPU's input backlog was full (/proc/net/softnet_stat, second column).
quint64 backlogDrops();
// Idle (and I/O wait) CPU seconds of all CPUs since boot, from /proc/stat.
double idleCpuSeconds();
