#include "RunMeter.h"

#include "Process.h"

#include <QtCore/QDir>
#include <QtCore/QFile>

#include <chrono>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

QList<quint64> socketInodes(qint64 pid) {
    QList<quint64> inodes;
    const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
    for (const QString &fd : fds.entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot)) {
        char link[64];
        const ssize_t length = ::readlink(qPrintable(fds.filePath(fd)), link, sizeof(link) - 1);
        if (length <= 0) {
            continue; // closed in between
        }
        link[length] = '\0';
        unsigned long long inode = 0;
        if (std::sscanf(link, "socket:[%llu]", &inode) == 1) {
            inodes.append(inode);
        }
    }
    return inodes;
}

quint64 udpDrops(const QList<quint64> &inodes, bool *ok) {
    quint64 total = 0;
    bool any = false;
    for (const char *path : { "/proc/self/net/udp", "/proc/self/net/udp6" }) {
        QFile table { QString::fromLatin1(path) };
        if (!table.open(QIODevice::ReadOnly)) {
            continue;
        }
        any = true;
        table.readLine(); // the header
        // sl local rem st tx:rx tr tm->when retrnsmt uid timeout inode ref pointer drops (proc_net(5))
        for (QByteArray line = table.readLine(); !line.isEmpty(); line = table.readLine()) {
            const QList<QByteArray> fields = line.simplified().split(' ');
            if (fields.size() >= 13 && inodes.contains(fields[9].toULongLong())) {
                total += fields[12].toULongLong();
            }
        }
    }
    if (ok) {
        *ok = any;
    }
    return total;
}

double idleCpuSeconds() {
    QFile stat(QStringLiteral("/proc/stat"));
    if (!stat.open(QIODevice::ReadOnly)) {
        return 0;
    }
    // "cpu  user nice system idle iowait irq softirq ..." (proc(5)), in clock ticks.
    const QList<QByteArray> fields = stat.readLine().simplified().split(' ');
    return (fields.value(4).toDouble() + fields.value(5).toDouble()) / double(sysconf(_SC_CLK_TCK));
}

quint64 backlogDrops() {
    QFile stat(QStringLiteral("/proc/net/softnet_stat"));
    if (!stat.open(QIODevice::ReadOnly)) {
        return 0;
    }
    quint64 total = 0;
    for (const QByteArray &line : stat.readAll().split('\n')) {
        total += line.simplified().split(' ').value(1).toULongLong(nullptr, 16); // one line per CPU, hex
    }
    return total;
}

RunMeter::RunMeter(qint64 targetPid, const QList<int> &generatorFds) : _pid(targetPid) {
    for (int fd : generatorFds) {
        struct stat info {};
        if (::fstat(fd, &info) == 0) {
            _generatorInodes.append(quint64(info.st_ino)); // a socket's st_ino is its socket:[inode]
        }
    }
    _start = read();
}

RunCounters RunMeter::read() const {
    RunCounters c;
    const QList<quint64> server = socketInodes(_pid);
    bool serverOk = false, generatorOk = false;
    c.serverDrops = udpDrops(server, &serverOk);
    c.generatorDrops = udpDrops(_generatorInodes, &generatorOk);
    c.backlogDrops = backlogDrops();
    c.generatorCpu = cpuSeconds(::getpid());
    c.idleCpu = idleCpuSeconds();
    c.wallSeconds = double(std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count())
                    / 1e6;
    c.known = serverOk && generatorOk && !server.isEmpty();
    return c;
}

RunCounters RunMeter::counters() const {
    const RunCounters end = read();
    RunCounters d;
    d.known = _start.known && end.known;
    // A drop counter never goes down while its socket lives; a socket closed in between takes its
    // count with it, so clamp rather than wrap.
    auto delta = [](quint64 a, quint64 b) { return b > a ? b - a : 0; };
    d.serverDrops = delta(_start.serverDrops, end.serverDrops);
    d.generatorDrops = delta(_start.generatorDrops, end.generatorDrops);
    d.backlogDrops = delta(_start.backlogDrops, end.backlogDrops);
    d.generatorCpu = end.generatorCpu - _start.generatorCpu;
    d.idleCpu = end.idleCpu - _start.idleCpu;
    d.wallSeconds = end.wallSeconds - _start.wallSeconds;
    return d;
}
