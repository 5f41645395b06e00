#include "Process.h"

#include <QtCore/QDir>
#include <QtCore/QMap>

#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QThread>

#include <arpa/inet.h>
#include <cstdio>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

bool Spawned::start(const QString &program, const QStringList &args, const QRegularExpression &listening,
                    int timeoutMs) {
    // The log goes to a file: ice-bench runs no event loop, so a pipe would fill and block the daemon.
    const QString logPath = logDir.filePath(QStringLiteral("log"));
    process.setStandardOutputFile(QProcess::nullDevice());
    process.setStandardErrorFile(logPath);
    process.start(program, args);
    if (!process.waitForStarted(5000)) {
        std::fprintf(stderr, "ice-bench: cannot start %s\n", qPrintable(program));
        return false;
    }
    if (listening.pattern().isEmpty()) {
        return true;
    }
    QByteArray log;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs && process.state() == QProcess::Running) {
        QThread::msleep(50);
        QFile file(logPath);
        if (file.open(QIODevice::ReadOnly)) {
            log = file.readAll();
        }
        const QRegularExpressionMatch match = listening.match(QString::fromUtf8(log));
        if (match.hasMatch()) {
            port = quint16(match.captured(1).toUInt());
            return true;
        }
    }
    std::fprintf(stderr, "ice-bench: %s did not start:\n%s\n", qPrintable(program), log.constData());
    return false;
}

Spawned::~Spawned() {
    if (process.state() == QProcess::Running) {
        process.terminate();
        if (!process.waitForFinished(10000)) {
            process.kill();
            process.waitForFinished(2000);
        }
    }
}

namespace {
// utime + stime in seconds from a /proc stat file; -1 when it cannot be read. *comm gets the name.
double statCpuSeconds(const QString &path, QByteArray *comm = nullptr) {
    QFile stat(path);
    if (!stat.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QByteArray text = stat.readAll();
    if (comm) {
        *comm = text.mid(text.indexOf('(') + 1, text.lastIndexOf(')') - text.indexOf('(') - 1);
    }
    // Fields after "(comm) ": state is field 3, utime 14 and stime 15 (proc(5)).
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    return (fields.value(11).toDouble() + fields.value(12).toDouble()) / double(sysconf(_SC_CLK_TCK));
}
} // namespace

double cpuSeconds(qint64 pid) {
    return statCpuSeconds(QStringLiteral("/proc/%1/stat").arg(pid));
}

QList<double> workerCpuSeconds(qint64 pid) {
    QMap<QByteArray, double> byName; // ice-worker-0, ice-worker-1, ... (names sort in order up to 10)
    const QDir tasks(QStringLiteral("/proc/%1/task").arg(pid));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QByteArray comm;
        const double seconds = statCpuSeconds(tasks.filePath(tid + QStringLiteral("/stat")), &comm);
        if (seconds >= 0 && comm.startsWith("ice-worker-")) {
            byName.insert(comm, seconds);
        }
    }
    return byName.values();
}

double rssMiB(qint64 pid) {
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:")) {
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
        }
    }
    return -1;
}

double loadAverage() {
    QFile load(QStringLiteral("/proc/loadavg"));
    return load.open(QIODevice::ReadOnly) ? load.readAll().split(' ').value(0).toDouble() : -1;
}

namespace {
quint16 freePort(int type) {
    const int fd = ::socket(AF_INET, type, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address));
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}
} // namespace

quint16 freeUdpPort() {
    return freePort(SOCK_DGRAM);
}

quint16 freeTcpPort() {
    return freePort(SOCK_STREAM);
}
