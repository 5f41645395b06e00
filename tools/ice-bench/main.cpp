// ice-bench: starts an ice-server (and the ice-echo ceiling) on loopback and measures them.
//   1. register N domains (pre-signed heartbeats, keys in a temporary key directory);
//   2. steady: every domain heartbeats at 1 Hz plus a query rate, for --duration seconds:
//      loss, p50/p99 latency, server RSS and CPU;
//   3. saturation: one request outstanding per socket (--sockets of them), heartbeats, then
//      queries, for --saturate seconds each: handled per second and latency;
//   4. the same saturation runs against ice-echo: the ceiling of one socket on this machine.
#include "BenchClient.h"
#include "Workload.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>

#include <arpa/inet.h>
#include <cstdio>
#include <thread>
#include <unistd.h>

namespace {
struct Spawned {
    QProcess process;
    QTemporaryDir logDir;
    quint16 port = 0;
    bool start(const QString &program, const QStringList &args, int timeoutMs) {
        // The log goes to a file: this program runs no event loop, so a pipe would fill and block it.
        const QString logPath = logDir.filePath(QStringLiteral("log"));
        process.setStandardOutputFile(QProcess::nullDevice());
        process.setStandardErrorFile(logPath);
        process.start(program, args);
        if (!process.waitForStarted(5000)) {
            return false;
        }
        QByteArray log;
        const QRegularExpression listening(QStringLiteral("listening on UDP 127\\.0\\.0\\.1:(\\d+)"));
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
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
            if (process.state() != QProcess::Running) {
                break;
            }
        }
        std::fprintf(stderr, "ice-bench: %s did not start:\n%s\n", qPrintable(program), log.constData());
        return false;
    }
    ~Spawned() {
        if (process.state() == QProcess::Running) {
            process.terminate();
            process.waitForFinished(10000);
        }
    }
};

// VmRSS of a process in MiB, from /proc/<pid>/status.
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

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
double cpuSeconds(qint64 pid) {
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QByteArray text = stat.readAll();
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    return (fields.value(11).toDouble() + fields.value(12).toDouble()) / double(sysconf(_SC_CLK_TCK));
}

sockaddr_in loopback(quint16 port) {
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
}

void print(const char *name, const BenchResult &r, double cpu = -1) {
    std::printf("  %-28s %9.0f /s  sent %9llu  answered %9llu  lost %6llu (%.3f%%)  p50 %6.0f us  p99 %7.0f us",
                name, r.rate(), (unsigned long long)r.sent, (unsigned long long)r.completed,
                (unsigned long long)r.lost, r.sent ? 100.0 * double(r.lost) / double(r.sent) : 0.0, r.p50Us, r.p99Us);
    if (cpu >= 0) {
        std::printf("  server CPU %3.0f%%", 100.0 * cpu);
    }
    if (r.denied) {
        std::printf("  DENIED %llu", (unsigned long long)r.denied);
    }
    std::printf("\n");
    std::fflush(stdout);
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Measures an ice-server over loopback against a UDP echo ceiling."));
    parser.addHelpOption();
    const QString here = QCoreApplication::applicationDirPath();
    const QCommandLineOption serverOption("server", "ice-server binary.", "PATH", here + "/../../ice-server/ice-server");
    const QCommandLineOption echoOption("echo-server", "ice-echo binary.", "PATH", here + "/ice-echo");
    const QCommandLineOption domainsOption("domains", "Registered domains (default 100000).", "N", "100000");
    const QCommandLineOption durationOption("duration", "Seconds of steady 1 Hz heartbeats (default 10).", "S", "10");
    const QCommandLineOption queryRateOption("query-rate", "Queries per second during the steady phase (default 2000).",
                                             "Q", "2000");
    const QCommandLineOption saturateOption("saturate", "Seconds of each saturation run (default 5).", "S", "5");
    const QCommandLineOption socketsOption("sockets", "Client sockets per set = requests in flight (default 64).", "N", "64");
    const QCommandLineOption threadsOption("sign-threads", "Threads signing heartbeats when not cached (default 2).", "N", "2");
    const QCommandLineOption onlyEchoOption("echo", "Only measure the echo ceiling.");
    for (const auto *o : { &serverOption, &echoOption, &domainsOption, &durationOption, &queryRateOption,
                           &saturateOption, &socketsOption, &threadsOption, &onlyEchoOption }) {
        parser.addOption(*o);
    }
    parser.process(app);
    const int domains = parser.value(domainsOption).toInt();
    const double duration = parser.value(durationOption).toDouble();
    const double queryRate = parser.value(queryRateOption).toDouble();
    const double saturate = parser.value(saturateOption).toDouble();
    const int sockets = parser.value(socketsOption).toInt();
    if (domains < sockets || sockets < 1 || duration <= 0 || saturate <= 0) {
        std::fprintf(stderr, "ice-bench: need --domains >= --sockets >= 1 and positive durations\n");
        return 2;
    }

    Workload work;
    QString error;
    if (!work.prepare(domains, parser.value(threadsOption).toInt(), &error)) {
        std::fprintf(stderr, "ice-bench: %s\n", qPrintable(error));
        return 1;
    }
    QList<QByteArray> queries;
    for (int i = 0; i < 4096; ++i) {
        queries.append(Workload::query(QUuid::createUuid(), work.domainIDs[(i * 7919) % domains]));
    }
    // Closed-loop feeds: socket s heartbeats only for its own domains (s, s + sockets, ...).
    const int perSocket = domains / sockets;
    auto heartbeatFor = [&](int s, quint64 n) -> const QByteArray & {
        return work.heartbeats[s + sockets * int(n % quint64(perSocket))];
    };
    auto queryFor = [&](int s, quint64 n) -> const QByteArray & {
        return queries[int((quint64(s) * 131 + n) % quint64(queries.size()))];
    };

    std::printf("ice-bench: %d domains, %d sockets per set, %u CPUs, Qt %s\n", domains, sockets,
                std::thread::hardware_concurrency(), qVersion());
    BenchResult echoHeartbeat, echoQuery, satHeartbeat, satQuery;
    BenchClient client(loopback(0), sockets);

    if (!parser.isSet(onlyEchoOption)) {
        QTemporaryDir keys;
        // QDir::removeRecursively takes minutes for 100k files; rm -rf takes a second.
        keys.setAutoRemove(false);
        struct RemoveKeys {
            QString path;
            ~RemoveKeys() { QProcess::execute(QStringLiteral("rm"), { QStringLiteral("-rf"), path }); }
        } removeKeys { keys.path() };
        std::fprintf(stderr, "ice-bench: writing %d key files...\n", domains);
        if (!work.writeKeyFiles(keys.path(), &error)) {
            std::fprintf(stderr, "ice-bench: %s\n", qPrintable(error));
            return 1;
        }
        Spawned server;
        // Rate limiting is off (all traffic comes from 127.0.0.1); a long peer timeout keeps the
        // domains registered through the saturation runs, in which they do not heartbeat at 1 Hz.
        if (!server.start(parser.value(serverOption),
                          { "--bind", "127.0.0.1", "--port", "0", "--http-port", "0", "--keys-dir", keys.path(),
                            "--keys-rescan", "0", "--rate-limit", "0", "--peer-timeout", "60000", "--max-domains",
                            QString::number(domains + 1000), "--receive-buffer", "8388608" },
                          120000)) {
            return 1;
        }
        const qint64 pid = server.process.processId();
        client.setServer(loopback(server.port));
        std::printf("ice-server pid %lld on 127.0.0.1:%u, RSS at start %.1f MiB\n", pid, server.port, rssMiB(pid));

        // 1. Registration: every domain once, paced at 20k/s (each costs one RSA verify).
        double cpu0 = cpuSeconds(pid);
        const double registerSeconds = std::max(1.0, domains / 20000.0);
        BenchClient::Paced reg = client.paced(work.heartbeats, domains / registerSeconds,
                                              [&](quint64 n) -> const QByteArray & { return queries[int(n % 4096)]; },
                                              0, registerSeconds, 1.0);
        std::printf("registration of %d domains in %.1f s:\n", domains, registerSeconds);
        print("register", reg.heartbeats, (cpuSeconds(pid) - cpu0) / (registerSeconds + 1.0));
        std::printf("  RSS with %d domains registered: %.1f MiB\n", domains, rssMiB(pid));

        // 2. Steady state: 1 Hz per domain plus queries.
        cpu0 = cpuSeconds(pid);
        BenchClient::Paced steady = client.paced(work.heartbeats, domains, [&](quint64 n) -> const QByteArray & {
            return queries[int(n % quint64(queries.size()))];
        }, queryRate, duration, 0.5);
        const double steadyCpu = (cpuSeconds(pid) - cpu0) / (duration + 0.5);
        std::printf("steady for %.0f s: %d domains at 1 Hz + %.0f queries/s:\n", duration, domains, queryRate);
        print("heartbeats", steady.heartbeats, steadyCpu);
        print("queries", steady.queries);
        std::printf("  peer information to domains: %llu (one per answered query expected)\n",
                    (unsigned long long)steady.queries.other);
        const double rss = rssMiB(pid);
        std::printf("  RSS after steady phase: %.1f MiB (goal <= 150 MiB for 100k domains)\n", rss);

        // 3. Saturation.
        std::printf("saturation, %d requests in flight, %.0f s each:\n", sockets, saturate);
        cpu0 = cpuSeconds(pid);
        satHeartbeat = client.closedLoop(heartbeatFor, false, saturate);
        print("ice-server heartbeats", satHeartbeat, (cpuSeconds(pid) - cpu0) / (saturate + 0.3));
        cpu0 = cpuSeconds(pid);
        satQuery = client.closedLoop(queryFor, true, saturate);
        print("ice-server queries", satQuery, (cpuSeconds(pid) - cpu0) / (saturate + 0.3));
        std::printf("  (each query also sent the domain its peer information: %llu)\n",
                    (unsigned long long)satQuery.other);
        std::printf("  server RSS at the end: %.1f MiB\n", rssMiB(pid));
    }

    Spawned echo;
    if (!echo.start(parser.value(echoOption), { "0" }, 10000)) {
        return 1;
    }
    const qint64 echoPid = echo.process.processId();
    client.setServer(loopback(echo.port));
    std::printf("echo ceiling (ice-echo, same QUdpSocketTransport, pid %lld):\n", echoPid);
    double cpu0 = cpuSeconds(echoPid);
    echoHeartbeat = client.closedLoop(heartbeatFor, false, saturate);
    print("echo, heartbeat-sized (296 B)", echoHeartbeat, (cpuSeconds(echoPid) - cpu0) / (saturate + 0.3));
    cpu0 = cpuSeconds(echoPid);
    echoQuery = client.closedLoop(queryFor, true, saturate);
    print("echo, query-sized (52 B)", echoQuery, (cpuSeconds(echoPid) - cpu0) / (saturate + 0.3));

    if (!parser.isSet(onlyEchoOption)) {
        std::printf("ratios to the echo ceiling: heartbeats %.0f%% (goal >= 70%%), queries %.0f%% (goal >= 50%%)\n",
                    100.0 * satHeartbeat.rate() / echoHeartbeat.rate(), 100.0 * satQuery.rate() / echoQuery.rate());
    }
    return 0;
}
