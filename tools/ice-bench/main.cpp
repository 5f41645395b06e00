// ice-bench: measures the ice-server on loopback against two references in one run: a C
// recvmmsg/sendmmsg echo (the ceiling of one socket on one core) and coturn's STUN responder.
// For each ice-server transport: registration, saturation (heartbeats, queries, STUN) with CPU per
// answer, and latency at 50 % and 90 % of the saturation rate. With --cluster: two ice-server nodes
// sharing one redis-server instead (ClusterBench.h). See BENCHMARKS.md.
#include "Bench.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QStandardPaths>

#include <cstdio>

namespace {
// Fills *options from the command line; false with a message on stderr for bad values.
bool parse(const QCoreApplication &app, BenchOptions *options) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Measures an ice-server over loopback against a C echo and coturn."));
    parser.addHelpOption();
    const QString here = QCoreApplication::applicationDirPath();
    const QList<QCommandLineOption> list {
        { "server", "ice-server binary.", "PATH", here + "/../../ice-server/ice-server" },
        { "echo-server", "C echo binary.", "PATH", here + "/ice-echo" },
        { "turnserver", "coturn binary; \"\" skips it (default: turnserver on PATH).", "PATH",
          QStandardPaths::findExecutable(QStringLiteral("turnserver")) },
        { "transports", "ice-server --transport values to measure, in order (default qt,native).", "LIST",
          "qt,native" },
        { "threads", "ice-server --threads values to measure for each transport, in order (default 1).", "LIST", "1" },
        { "domains", "Registered domains (default 10000).", "N", "10000" },
        { "register-rate",
          "Registration heartbeats per second (default 20000; with --cluster both nodes together, default 10000).",
          "N" },
        { "saturate", "Seconds of each saturation run (default 3).", "S", "3" },
        { "latency", "Seconds of each latency run (default 3).", "S", "3" },
        { "sockets", "Client sockets per set (default 4).", "N", "4" },
        { "window", "Requests in flight per socket when saturating (default 64).", "N", "64" },
        { "kinds", "Request kinds to measure, of heartbeat,query,stun (default all; e.g. one kind to profile it).",
          "LIST", "heartbeat,query,stun" },
        { "sign-threads", "Threads signing heartbeats when not cached (default 2).", "N", "2" },
        { "cluster", "Instead of the echo, ice-server and coturn runs: two ice-server nodes on one redis-server, half "
                     "of the domains "
                     "at each (cross-node queries, Redis commands per heartbeat, Redis memory per domain)." },
        { "redis-server", "redis-server binary for --cluster (default: on PATH).", "PATH",
          QStandardPaths::findExecutable(QStringLiteral("redis-server")) },
        { "steady", "--cluster: seconds of the measured steady state, 1 heartbeat/s per domain (default 40).", "S",
          "40" },
        { "steady-domains",
          "--cluster: domains heartbeating in the steady state, half at each node (default: all of --domains).", "N",
          "0" },
    };
    parser.addOptions(list);
    parser.process(app);
    options->serverPath = parser.value("server");
    options->echoPath = parser.value("echo-server");
    options->turnserverPath = parser.value("turnserver");
    options->transports = parser.value("transports").split(',', Qt::SkipEmptyParts);
    options->threads.clear();
    for (const QString &value : parser.value("threads").split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const int threads = value.toInt(&ok);
        if (!ok || threads < 1) {
            std::fprintf(stderr, "ice-bench: --threads wants a list of counts >= 1, not '%s'\n", qPrintable(value));
            return false;
        }
        options->threads.append(threads);
    }
    options->kinds = parser.value("kinds").split(',', Qt::SkipEmptyParts);
    for (const QString &kind : qAsConst(options->kinds)) {
        if (kind != "heartbeat" && kind != "query" && kind != "stun") {
            std::fprintf(stderr, "ice-bench: --kinds takes heartbeat, query and stun, not '%s'\n", qPrintable(kind));
            return false;
        }
    }
    options->domains = parser.value("domains").toInt();
    options->saturateSeconds = parser.value("saturate").toDouble();
    options->latencySeconds = parser.value("latency").toDouble();
    options->sockets = parser.value("sockets").toInt();
    options->window = parser.value("window").toInt();
    options->signThreads = qMax(1, parser.value("sign-threads").toInt());
    options->cluster = parser.isSet("cluster");
    options->redisPath = parser.value("redis-server");
    options->steadySeconds = parser.value("steady").toDouble();
    options->registerRate = parser.isSet("register-rate") ? parser.value("register-rate").toDouble()
                            : options->cluster            ? 10000
                                                          : 20000;
    options->steadyDomains = parser.value("steady-domains").toInt();
    if (options->steadyDomains <= 0 || options->steadyDomains > options->domains) {
        options->steadyDomains = options->domains;
    }
    if (options->cluster
        && (options->redisPath.isEmpty() || options->steadySeconds <= 0 || options->registerRate < 1
            || options->steadyDomains < 2 * options->sockets)) {
        std::fprintf(stderr, "ice-bench: --cluster needs redis-server (--redis-server PATH), a positive --steady "
                             "and --register-rate, and --domains, --steady-domains >= 2 x --sockets\n");
        return false;
    }
    if (options->sockets < 1 || options->domains < options->sockets || options->window < 1
        || options->saturateSeconds <= 0 || options->latencySeconds <= 0 || options->registerRate <= 0) {
        std::fprintf(stderr, "ice-bench: need --domains >= --sockets >= 1, --window >= 1 and positive durations\n");
        return false;
    }
    return true;
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    BenchOptions options;
    if (!parse(app, &options)) {
        return 2;
    }
    return runBench(options);
}
