#include "Bench.h"

#include "BenchClient.h"
#include "ClusterBench.h"
#include "Process.h"
#include "Workload.h"

#include <StunMessage.h>

#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QTemporaryDir>

#include <arpa/inet.h>
#include <cstdio>
#include <thread>

sockaddr_in loopback(quint16 port) {
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
}

void printResult(const QString &target, const QString &what, const BenchResult &r, double cpu, const RunCounters &c) {
    const double cpuUs = r.completed ? cpu * 1e6 / double(r.completed) : 0;
    // Where the lost went: requests the target's sockets dropped, answers the generator's dropped,
    // the kernel's backlog, answers after the drain (paced runs), and the rest (never answered; in
    // a closed loop also answers that came after their window timed out). And whether the target
    // was short of CPU: the generator's share and what nobody used, over the run and its drain.
    const qint64 rest = qint64(r.lost) - qint64(c.serverDrops + c.generatorDrops + c.backlogDrops + r.late);
    const double generatorPercent = c.wallSeconds > 0 ? 100.0 * c.generatorCpu / c.wallSeconds : 0;
    const double idlePercent = c.wallSeconds > 0 ? 100.0 * c.idleCpu / c.wallSeconds : 0;
    QByteArray where, cpuShares;
    if (c.known) {
        where = QStringLiteral(" [server %1, generator %2, backlog %3, late %4, rest %5]")
                    .arg(c.serverDrops)
                    .arg(c.generatorDrops)
                    .arg(c.backlogDrops)
                    .arg(r.late)
                    .arg(rest)
                    .toUtf8();
        cpuShares = QStringLiteral("  generator CPU %1%, idle %2%")
                        .arg(generatorPercent, 0, 'f', 0)
                        .arg(idlePercent, 0, 'f', 0)
                        .toUtf8();
    }
    std::printf("  %-26s %9.0f /s  lost %6llu (%.3f%%)%s  p50 %6.0f us  p99 %7.0f us  CPU %3.0f%%  %5.2f "
                "CPU-us/answer%s%s\n",
                qPrintable(target + QLatin1Char(' ') + what), r.rate(), (unsigned long long)r.lost,
                r.sent ? 100.0 * double(r.lost) / double(r.sent) : 0.0, where.constData(), r.p50Us, r.p99Us,
                100.0 * cpu / r.seconds, cpuUs, cpuShares.constData(), r.denied ? " DENIED" : "");
    // One line per figure for scripts (medians over repeated runs).
    std::printf("result %s %s rate=%.0f lost=%llu sent=%llu p50=%.0f p99=%.0f cpu_us=%.3f", qPrintable(target),
                qPrintable(what), r.rate(), (unsigned long long)r.lost, (unsigned long long)r.sent, r.p50Us, r.p99Us,
                cpuUs);
    if (c.known) {
        std::printf(" drop_server=%llu drop_generator=%llu drop_backlog=%llu late=%llu lost_rest=%lld "
                    "generator_cpu=%.1f idle=%.1f",
                    (unsigned long long)c.serverDrops, (unsigned long long)c.generatorDrops,
                    (unsigned long long)c.backlogDrops, (unsigned long long)r.late, (long long)rest, generatorPercent,
                    idlePercent);
    }
    std::printf("\n");
    std::fflush(stdout);
}

namespace {

// The three request kinds and the socket set each comes from.
struct Feed {
    const char *name;
    BenchClient::Next next;
    BenchClient::Set set;
};

class Run {
public:
    Run(const BenchOptions &options, const Workload &work)
        : _options(options), _work(work), _client(loopback(0), options.sockets) {
        for (int i = 0; i < 4096; ++i) {
            _queries.append(Workload::query(QUuid::createUuid(), work.domainIDs[(i * 7919) % options.domains]));
        }
        for (int i = 0; i < 256; ++i) {
            _stun.append(StunMessage::bindingRequest().encode());
        }
        // Socket s heartbeats only for its own domains (s, s + sockets, ...), as a domain keeps its socket.
        const int sockets = options.sockets;
        const int perSocket = options.domains / sockets;
        _feeds = {
            { "heartbeat",
              [this, sockets, perSocket](int s, quint64 n) -> const QByteArray & {
                  return _work.heartbeats[s + sockets * int(n % quint64(perSocket))];
              },
              BenchClient::DomainSockets },
            { "query",
              [this](int s, quint64 n) -> const QByteArray & {
                  return _queries[int((quint64(s) * 131 + n) % quint64(_queries.size()))];
              },
              BenchClient::QuerySockets },
            { "stun",
              [this](int s, quint64 n) -> const QByteArray & {
                  return _stun[int((quint64(s) * 31 + n) % quint64(_stun.size()))];
              },
              BenchClient::QuerySockets },
        };
    }

    // The feeds --kinds asks for.
    bool measured(const Feed &feed) const { return _options.kinds.contains(QLatin1String(feed.name)); }

    bool echo();
    bool server(const QString &transport, int threads, const QString &keysDir);
    bool coturn();
    void summary() const;

private:
    // Saturation: closed loop; prints and records the rate and the target's CPU per answer.
    BenchResult saturate(const QString &target, const Feed &feed, qint64 pid);
    // Open loop at a share of the saturation rate: latency and loss.
    void latency(const QString &target, const Feed &feed, qint64 pid, double rate, int percent);

    const BenchOptions &_options;
    const Workload &_work;
    BenchClient _client;
    QList<QByteArray> _queries, _stun;
    QList<Feed> _feeds;
    QMap<QString, BenchResult> _saturated; // "target/feed"
    QMap<QString, double> _cpuUs;          // CPU-µs per answer, "target/feed"
};

BenchResult Run::saturate(const QString &target, const Feed &feed, qint64 pid) {
    const RunMeter meter(pid, _client.fds(feed.set));
    const double cpu0 = cpuSeconds(pid);
    const BenchResult r = _client.closedLoop(feed.next, feed.set, _options.saturateSeconds, _options.window);
    const double cpu = cpuSeconds(pid) - cpu0;
    printResult(target, QLatin1String(feed.name), r, cpu, meter.counters());
    const QString key = target + QLatin1Char('/') + QLatin1String(feed.name);
    _saturated[key] = r;
    _cpuUs[key] = r.completed ? cpu * 1e6 / double(r.completed) : 0;
    return r;
}

void Run::latency(const QString &target, const Feed &feed, qint64 pid, double rate, int percent) {
    const RunMeter meter(pid, _client.fds(feed.set));
    const double cpu0 = cpuSeconds(pid);
    const BenchResult r = _client.paced(feed.next, feed.set, rate * percent / 100.0, _options.latencySeconds);
    const double cpu = cpuSeconds(pid) - cpu0;
    printResult(target, QStringLiteral("%1@%2%").arg(QLatin1String(feed.name)).arg(percent), r, cpu, meter.counters());
}

bool Run::echo() {
    Spawned echo;
    if (!echo.start(_options.echoPath, { QStringLiteral("0") },
                    QRegularExpression(QStringLiteral("listening on UDP 127\\.0\\.0\\.1:(\\d+)")), 10000)) {
        return false;
    }
    _client.setServer(loopback(echo.port));
    std::printf("C echo (recvmmsg/sendmmsg, one core), same sizes as each request kind (load average %.2f):\n",
                loadAverage());
    QList<double> rates;
    for (const Feed &feed : _feeds) {
        rates.append(measured(feed) ? saturate(QStringLiteral("echo"), feed, echo.pid()).rate() : 0);
    }
    // The same open loop as the servers get: what the echo loses at 90 % of its own saturation is
    // what this machine and generator lose whatever the server.
    for (int i = 0; i < _feeds.size(); ++i) {
        for (int percent : { 50, 90 }) {
            if (rates[i] > 0) {
                latency(QStringLiteral("echo"), _feeds[i], echo.pid(), rates[i], percent);
            }
        }
    }
    return true;
}

// "ice-server/native" for one thread (as before threads existed), "ice-server/native/t2" for two.
QString serverTarget(const QString &transport, int threads) {
    return QStringLiteral("ice-server/") + transport + (threads == 1 ? QString() : QStringLiteral("/t%1").arg(threads));
}

bool Run::server(const QString &transport, int threads, const QString &keysDir) {
    Spawned server;
    // Rate limiting off (all traffic comes from 127.0.0.1); a long peer timeout keeps the domains
    // registered through the saturation runs, in which they do not heartbeat at 1 Hz.
    if (!server.start(_options.serverPath, { "--bind",           "127.0.0.1",
                                             "--port",           "0",
                                             "--http-port",      "0",
                                             "--keys-dir",       keysDir,
                                             "--keys-rescan",    "0",
                                             "--rate-limit",     "0",
                                             "--peer-timeout",   "60000",
                                             "--max-domains",    QString::number(_options.domains + 1000),
                                             "--receive-buffer", "8388608",
                                             "--transport",      transport,
                                             "--threads",        QString::number(threads) },
                      QRegularExpression(QStringLiteral("listening on UDP 127\\.0\\.0\\.1:(\\d+)")),
                      // The server reads every key file before it listens: minutes for 100,000 on a busy machine.
                      120000 + 5 * _options.domains)) {
        return false;
    }
    const QString target = serverTarget(transport, threads);
    _client.setServer(loopback(server.port));
    std::printf("%s (pid %lld), RSS at start %.1f MiB, load average %.2f:\n", qPrintable(target), server.pid(),
                rssMiB(server.pid()), loadAverage());
    // Registration: every domain once, paced at --register-rate (20,000/s; each costs one RSA verify).
    const double seconds = qMax(1.0, _options.domains / _options.registerRate);
    const RunMeter meter(server.pid(), _client.fds(BenchClient::DomainSockets));
    const double cpu0 = cpuSeconds(server.pid());
    const BenchResult reg = _client.paced(_feeds[0].next, BenchClient::DomainSockets, _options.domains / seconds,
                                          seconds, 1.0);
    const double cpu = cpuSeconds(server.pid()) - cpu0;
    printResult(target, QStringLiteral("register"), reg, cpu, meter.counters());
    std::printf("  RSS with %d domains registered: %.1f MiB\n", _options.domains, rssMiB(server.pid()));
    QList<double> rates;
    for (const Feed &feed : _feeds) {
        if (!measured(feed)) {
            rates.append(0);
            continue;
        }
        const QList<double> before = workerCpuSeconds(server.pid());
        rates.append(saturate(target, feed, server.pid()).rate());
        const QList<double> after = workerCpuSeconds(server.pid());
        if (after.size() > 1 && after.size() == before.size()) {
            // How the kernel spread the client sockets over the workers' sockets.
            std::printf("    CPU seconds per worker thread:");
            for (int i = 0; i < after.size(); ++i) {
                std::printf(" %.2f", after[i] - before[i]);
            }
            std::printf("\n");
        }
    }
    for (int i = 0; i < _feeds.size(); ++i) {
        for (int percent : { 50, 90 }) {
            if (!measured(_feeds[i])) {
                break;
            }
            latency(target, _feeds[i], server.pid(), rates[i], percent);
        }
    }
    // The saturation heartbeats registered whatever the paced registration lost.
    std::printf("  RSS at the end (every domain has heartbeated since): %.1f MiB\n", rssMiB(server.pid()));
    return true;
}

bool Run::coturn() {
    Spawned turn;
    const quint16 port = freeUdpPort();
    if (!turn.start(_options.turnserverPath,
                    { "--stun-only", "-n", "--no-cli", "-L", "127.0.0.1", "--listening-port", QString::number(port),
                      "--log-file", "stdout", "--no-tls", "--no-dtls" },
                    QRegularExpression(), 0)) {
        return false;
    }
    _client.setServer(loopback(port));
    if (!_client.answers(_stun.first(), 10000)) {
        std::fprintf(stderr, "ice-bench: coturn does not answer STUN on 127.0.0.1:%u\n", port);
        return false;
    }
    std::printf("coturn STUN (turnserver --stun-only, its default UDP threads: one per core; load average %.2f):\n",
                loadAverage());
    const BenchResult r = saturate(QStringLiteral("coturn"), _feeds[2], turn.pid());
    for (int percent : { 50, 90 }) {
        latency(QStringLiteral("coturn"), _feeds[2], turn.pid(), r.rate(), percent);
    }
    return true;
}

void Run::summary() const {
    auto rate = [this](const QString &key) { return _saturated.value(key).rate(); };
    std::printf("summary (ratios from this run):\n");
    for (const QString &transport : _options.transports) {
        for (int threads : _options.threads) {
            const QString t = serverTarget(transport, threads);
            std::printf("  %-18s heartbeats %5.1f%% of echo (goal >= 80%%), queries %5.1f%% (goal >= 50%%), "
                        "STUN %5.1f%% of echo",
                        qPrintable(t), 100 * rate(t + "/heartbeat") / rate("echo/heartbeat"),
                        100 * rate(t + "/query") / rate("echo/query"), 100 * rate(t + "/stun") / rate("echo/stun"));
            if (rate("coturn/stun") > 0) {
                std::printf(", STUN %.2f x coturn (goal >= 1.2)", rate(t + "/stun") / rate("coturn/stun"));
            }
            std::printf(
                "\n  %-18s CPU-us per answer: heartbeat %.2f, query %.2f, STUN %.2f (echo %.2f / %.2f / %.2f)\n", "",
                _cpuUs.value(t + "/heartbeat"), _cpuUs.value(t + "/query"), _cpuUs.value(t + "/stun"),
                _cpuUs.value("echo/heartbeat"), _cpuUs.value("echo/query"), _cpuUs.value("echo/stun"));
            if (threads > 1 && _cpuUs.value(serverTarget(transport, 1) + "/heartbeat") > 0) {
                const QString one = serverTarget(transport, 1);
                auto ratio = [&](const char *feed) {
                    return _cpuUs.value(t + "/" + feed) / _cpuUs.value(one + "/" + feed);
                };
                std::printf("  %-18s CPU per answer vs 1 thread: heartbeat %.2f x (goal <= 1.15), query %.2f x, "
                            "STUN %.2f x\n",
                            "", ratio("heartbeat"), ratio("query"), ratio("stun"));
            }
        }
    }
}
} // namespace

int runBench(const BenchOptions &options) {
    Workload work;
    QString error;
    if (!work.prepare(options.domains, options.signThreads, &error)) {
        std::fprintf(stderr, "ice-bench: %s\n", qPrintable(error));
        return 1;
    }
    std::printf("ice-bench: %d domains, %d client sockets per set, %d in flight per socket when saturating, "
                "%u CPUs shared by client and server\n",
                options.domains, options.sockets, options.window, std::thread::hardware_concurrency());
    QTemporaryDir keys;
    // QDir::removeRecursively takes minutes for 100k files; rm -rf takes a second.
    keys.setAutoRemove(false);
    struct RemoveKeys {
        QString path;
        ~RemoveKeys() { QProcess::execute(QStringLiteral("rm"), { QStringLiteral("-rf"), path }); }
    } removeKeys { keys.path() };
    std::fprintf(stderr, "ice-bench: writing %d key files...\n", options.domains);
    if (!work.writeKeyFiles(keys.path(), &error)) {
        std::fprintf(stderr, "ice-bench: %s\n", qPrintable(error));
        return 1;
    }
    if (options.cluster) {
        return runClusterBench(options, work, keys.path());
    }
    Run run(options, work);
    if (!run.echo()) {
        return 1;
    }
    for (const QString &transport : options.transports) {
        for (int threads : options.threads) {
            if (!run.server(transport, threads, keys.path())) {
                return 1;
            }
        }
    }
    if (!options.turnserverPath.isEmpty() && options.kinds.contains(QLatin1String("stun")) && !run.coturn()) {
        return 1;
    }
    run.summary();
    return 0;
}
