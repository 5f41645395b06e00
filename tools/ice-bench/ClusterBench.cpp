#include "ClusterBench.h"

#include "BenchClient.h"
#include "Process.h"
#include "Workload.h"

#include <QtCore/QFileInfo>
#include <QtCore/QMap>
#include <QtCore/QSet>
#include <QtCore/QStandardPaths>
#include <QtCore/QThread>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {
// What the publish, lookup and unpublish scripts run inside Redis: counted by INFO commandstats
// like any command, but they cost the node no round trip. Everything else in the measured windows
// comes from the nodes, except ice-bench's own INFO.
const QSet<QString> ScriptInternal { "hmget", "hget", "hset", "exists", "pexpire", "del" };
const QString BenchOwn = QStringLiteral("info");

double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Runs a and b at the same time (b on this thread) and returns when both have.
template <typename A, typename B> void together(A a, B b) {
    std::thread other(a);
    b();
    other.join();
}

// redis-server on a free loopback port without persistence, and redis-cli for what is read from it.
class Redis {
public:
    bool start(const QString &serverPath) {
        const QString beside = QFileInfo(serverPath).absolutePath() + QStringLiteral("/redis-cli");
        _cliPath = QFileInfo(beside).isExecutable() ? beside
                                                    : QStandardPaths::findExecutable(QStringLiteral("redis-cli"));
        if (_cliPath.isEmpty()) {
            std::fprintf(stderr, "ice-bench: no redis-cli beside %s or on PATH\n", qPrintable(serverPath));
            return false;
        }
        _port = freeTcpPort();
        if (!_server.start(serverPath,
                           { "--port", QString::number(_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", "--daemonize", "no" },
                           QRegularExpression(), 0)) {
            return false;
        }
        for (int i = 0; i < 100; ++i) {
            if (cli({ "ping" }) == "PONG") {
                return true;
            }
            QThread::msleep(50);
        }
        std::fprintf(stderr, "ice-bench: redis-server does not answer on 127.0.0.1:%u\n", _port);
        return false;
    }

    quint16 port() const { return _port; }
    qint64 pid() const { return _server.pid(); }

    // The reply of one redis-cli call, trimmed.
    QByteArray cli(const QStringList &args) {
        ++_cliCalls;
        QProcess process;
        process.start(_cliPath, QStringList { "-h", "127.0.0.1", "-p", QString::number(_port) } + args);
        process.waitForFinished(10000);
        return process.readAllStandardOutput().trimmed();
    }

    QByteArray info(const QString &section, const QByteArray &field) {
        for (const QByteArray &line : cli({ "info", section }).split('\n')) {
            if (line.startsWith(field + ':')) {
                return line.mid(field.size() + 1).trimmed();
            }
        }
        return {};
    }

    // INFO commandstats: calls per command ("evalsha", "client|setname", ...).
    QMap<QString, quint64> commandCalls() {
        QMap<QString, quint64> calls;
        for (const QByteArray &line : cli({ "info", "commandstats" }).split('\n')) {
            // cmdstat_evalsha:calls=50,usec=410,usec_per_call=8.20,rejected_calls=0,failed_calls=0
            const int colon = line.indexOf(':');
            const int start = line.indexOf("calls=") + 6;
            if (line.startsWith("cmdstat_") && colon > 8 && start > 6) {
                calls[QString::fromLatin1(line.mid(8, colon - 8))] = line.mid(start, line.indexOf(',', start) - start)
                                                                         .toULongLong();
            }
        }
        return calls;
    }

    qint64 records() { return cli({ "dbsize" }).toLongLong(); }

    // Connections Redis accepted from anything but our redis-cli calls: two per node (commands and
    // subscriber) when no node ever reconnected.
    qint64 nodeConnections() { return info("stats", "total_connections_received").toLongLong() - _cliCalls; }

private:
    Spawned _server;
    QString _cliPath;
    quint16 _port = 0;
    qint64 _cliCalls = 0;
};

// Commands between two INFO commandstats readings, split into what the nodes sent and what their
// scripts ran inside Redis.
struct Commands {
    quint64 node = 0;
    quint64 internal = 0;
    QMap<QString, quint64> byCommand; // node commands only

    Commands(const QMap<QString, quint64> &before, const QMap<QString, quint64> &after) {
        for (auto it = after.constBegin(); it != after.constEnd(); ++it) {
            const quint64 n = it.value() - before.value(it.key());
            if (n == 0 || it.key() == BenchOwn) {
                continue;
            }
            if (ScriptInternal.contains(it.key())) {
                internal += n;
            } else {
                node += n;
                byCommand[it.key()] = n;
            }
        }
    }
    QString describe() const {
        QStringList parts;
        for (auto it = byCommand.constBegin(); it != byCommand.constEnd(); ++it) {
            parts.append(QStringLiteral("%1 %2").arg(it.key()).arg(it.value()));
        }
        return parts.isEmpty() ? QStringLiteral("none") : parts.join(QStringLiteral(", "));
    }
};

class ClusterRun {
public:
    ClusterRun(const BenchOptions &options, const Workload &work, const QString &keysDir)
        : _options(options), _work(work), _keysDir(keysDir), _sockets(options.sockets),
          _half(options.domains / options.sockets / 2),
          _steadyHalf(std::min(_half, options.steadyDomains / options.sockets / 2)), _clients {
              BenchClient(loopback(0), options.sockets), BenchClient(loopback(0), options.sockets)
          } {
        // Queries for node a's domains only: asked at a they are local, asked at b they cross.
        for (int i = 0; i < 4096; ++i) {
            _queries.append(
                Workload::query(QUuid::createUuid(), work.domainIDs[domainIndex(0, i % _sockets, i * 7919)]));
        }
    }

    int run();

private:
    enum { A, B };

    // Node `node` holds domains s + sockets * k for k in [node * half, (node + 1) * half): socket s
    // of that node's client always heartbeats for the same domains, as a domain keeps its socket.
    // With `cycle`, only the first cycle of them: the steady state's set.
    int domainIndex(int node, int socket, quint64 n, int cycle = 0) const {
        return socket + _sockets * (node * _half + int(n % quint64(cycle > 0 ? cycle : _half)));
    }
    BenchClient::Next heartbeats(int node, int cycle = 0) const {
        return [this, node, cycle](int s, quint64 n) -> const QByteArray & {
            return _work.heartbeats[domainIndex(node, s, n, cycle)];
        };
    }
    BenchClient::Next queries() const {
        return [this](int s, quint64 n) -> const QByteArray & {
            return _queries[int((quint64(s) * 131 + n) % quint64(_queries.size()))];
        };
    }
    int perNode() const { return _half * _sockets; }
    // Where the run is, on stderr with the time since it began (a 100,000-key start is slow).
    void progress(const char *what) const {
        std::fprintf(stderr, "ice-bench: [%.0f s] %s\n", secondsSince(_began), what);
    }

    bool startNode(int node);
    bool registerDomains();
    bool steadyState();
    bool crossQueries();
    void latency(double rate, const QString &label);
    void summary() const;

    const BenchOptions &_options;
    const Workload &_work;
    const QString _keysDir;
    const int _sockets;
    const int _half;
    const int _steadyHalf; // per node and socket, the domains heartbeating in the steady state
    Redis _redis;
    Spawned _nodes[2];
    const char *_names[2] = { "a", "b" };
    BenchClient _clients[2]; // one per node: a domain heartbeats from the same socket all along
    QList<QByteArray> _queries;

    const std::chrono::steady_clock::time_point _began = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point _registrationStart, _registrationEnd;
    qint64 _memoryBefore = 0;
    // Figures for the summary.
    double _memoryPerRecord = 0, _recordUsage = 0, _commandsPerHeartbeat = 0, _internalPerHeartbeat = 0;
    double _steadyRate = 0, _commandsPerCrossQuery = 0;
    QList<double> _ownerRates, _crossRates, _ratios;
    BenchResult _ownerLatency, _crossLatency;
    double _latencyRate = 0;
};

bool ClusterRun::startNode(int node) {
    const QString id = QLatin1String(_names[node]);
    progress(node == A ? "starting node a" : "starting node b");
    // As the single-node run: rate limiting off (all traffic comes from 127.0.0.1), a peer timeout
    // long enough to keep every domain through the query runs, in which they do not heartbeat. A node
    // loading 100,000 key files took over 2 minutes on the loaded shared machine: wait up to 10.
    if (!_nodes[node].start(_options.serverPath,
                            { "--bind",           "127.0.0.1",
                              "--port",           "0",
                              "--http-port",      "0",
                              "--keys-dir",       _keysDir,
                              "--keys-rescan",    "0",
                              "--rate-limit",     "0",
                              "--peer-timeout",   "120000",
                              "--max-domains",    QString::number(_options.domains + 1000),
                              "--receive-buffer", "8388608",
                              "--transport",      "native",
                              "--cluster",        QStringLiteral("redis://127.0.0.1:%1").arg(_redis.port()),
                              "--node-id",        id },
                            QRegularExpression(QStringLiteral("listening on UDP 127\\.0\\.0\\.1:(\\d+)")), 600000)) {
        return false;
    }
    for (int i = 0; i < 200; ++i) {
        if (_redis.cli({ "exists", "icebreaker:alive:" + id }) == "1") {
            _clients[node].setServer(loopback(_nodes[node].port));
            std::printf("node %s: ice-server pid %lld on 127.0.0.1:%u, in Redis\n", _names[node], _nodes[node].pid(),
                        _nodes[node].port);
            return true;
        }
        QThread::msleep(50);
    }
    std::fprintf(stderr, "ice-bench: node %s did not register itself in Redis within 10 s\n", _names[node]);
    return false;
}

bool ClusterRun::registerDomains() {
    progress("registering");
    // Every domain heartbeats once at its node; on a loaded machine a node may drop some (each costs
    // an RSA verify), so passes repeat until Redis holds every domain (at most three). A domain
    // already registered costs a repeat heartbeat (no verify, no Redis write) in a later pass.
    const double rate = _options.registerRate / 2.0;
    const double seconds = std::max(1.0, perNode() / rate);
    BenchResult results[2];
    const double cpu0[2] = { cpuSeconds(_nodes[A].pid()), cpuSeconds(_nodes[B].pid()) };
    const double redisCpu0 = cpuSeconds(_redis.pid());
    _registrationStart = std::chrono::steady_clock::now();
    for (int pass = 1; pass <= 3; ++pass) {
        const double passCpu0[2] = { cpuSeconds(_nodes[A].pid()), cpuSeconds(_nodes[B].pid()) };
        together(
            [&] {
                results[A] = _clients[A].paced(heartbeats(A), BenchClient::DomainSockets, perNode() / seconds, seconds,
                                               1.0);
            },
            [&] {
                results[B] = _clients[B].paced(heartbeats(B), BenchClient::DomainSockets, perNode() / seconds, seconds,
                                               1.0);
            });
        for (int node : { A, B }) {
            printResult(QStringLiteral("cluster/%1").arg(QLatin1String(_names[node])),
                        QStringLiteral("register%1").arg(pass), results[node],
                        cpuSeconds(_nodes[node].pid()) - passCpu0[node]);
        }
        QThread::msleep(1000); // let the pipelined writes land
        if (_redis.records() - 2 >= 2 * perNode()) {
            break;
        }
    }
    _registrationEnd = std::chrono::steady_clock::now();
    std::printf("  registration CPU: node a %.1f s, node b %.1f s\n", cpuSeconds(_nodes[A].pid()) - cpu0[A],
                cpuSeconds(_nodes[B].pid()) - cpu0[B]);
    // The nodes publish behind the heartbeats (pipelined, never blocking them): wait for Redis.
    const qint64 acked = 2 * perNode();
    qint64 records = 0, last = -1;
    auto lastGrowth = std::chrono::steady_clock::now();
    const auto waitStart = lastGrowth;
    while (secondsSince(waitStart) < 120 && secondsSince(lastGrowth) < 5) {
        records = _redis.records() - 2; // the nodes' alive keys
        if (records >= acked) {
            break;
        }
        if (records != last) {
            last = records;
            lastGrowth = std::chrono::steady_clock::now();
        }
        QThread::msleep(100);
    }
    const double redisCpu = cpuSeconds(_redis.pid()) - redisCpu0;
    std::printf("  %lld of %lld registrations in Redis %.1f s after the last heartbeat "
                "(Redis CPU during registration %.1f s)\n",
                records, acked, secondsSince(_registrationEnd) + 1.1, redisCpu);
    if (records <= 0) {
        std::fprintf(stderr, "ice-bench: no registration reached Redis\n");
        return false;
    }
    const qint64 memory = _redis.info("memory", "used_memory").toLongLong();
    _memoryPerRecord = double(memory - _memoryBefore) / double(records);
    _recordUsage = _redis
                       .cli({ "memory", "usage",
                              "icebreaker:domain:" + _work.domainIDs[0].toString(QUuid::WithoutBraces) })
                       .toDouble();
    std::printf("  Redis used_memory %.1f MiB -> %.1f MiB: %.0f bytes per registration (MEMORY USAGE of one "
                "record: %.0f bytes)\n",
                _memoryBefore / 1048576.0, memory / 1048576.0, _memoryPerRecord, _recordUsage);
    std::printf("result cluster/redis registration records=%lld mem_per_record=%.0f record_usage=%.0f\n", records,
                _memoryPerRecord, _recordUsage);
    return true;
}

bool ClusterRun::steadyState() {
    // Every domain of the steady set heartbeats once a second at its own node (the others stay
    // registered and silent: they cost Redis nothing until their peer timeout). Records are
    // refreshed every 20 s after their last write, so the measured window starts 5 s after the
    // registration ended and is a multiple of 20 s: it holds two refresh rounds of every domain.
    progress("steady state");
    const double rate = _steadyHalf * _sockets;
    std::printf("  steady state: %d domains (%d at each node) heartbeat once a second, %d registered\n",
                2 * _steadyHalf * _sockets, _steadyHalf * _sockets, 2 * perNode());
    const double warmup = std::max(0.5, 5.0 - secondsSince(_registrationEnd));
    together([&] { _clients[A].paced(heartbeats(A, _steadyHalf), BenchClient::DomainSockets, rate, warmup, 0.2); },
             [&] { _clients[B].paced(heartbeats(B, _steadyHalf), BenchClient::DomainSockets, rate, warmup, 0.2); });
    const double late = secondsSince(_registrationStart) - 20;
    if (late > 0) {
        std::printf("  note: the window starts %.1f s after the first refresh round began: it may miss "
                    "some of that round\n",
                    late);
    }
    const QMap<QString, quint64> calls0 = _redis.commandCalls();
    const qint64 connections0 = _redis.nodeConnections();
    const double cpu0[3] = { cpuSeconds(_nodes[A].pid()), cpuSeconds(_nodes[B].pid()), cpuSeconds(_redis.pid()) };
    BenchResult results[2];
    const double seconds = _options.steadySeconds;
    together(
        [&] {
            results[A] = _clients[A].paced(heartbeats(A, _steadyHalf), BenchClient::DomainSockets, rate, seconds, 0.5);
        },
        [&] {
            results[B] = _clients[B].paced(heartbeats(B, _steadyHalf), BenchClient::DomainSockets, rate, seconds, 0.5);
        });
    const Commands commands(calls0, _redis.commandCalls());
    const double redisCpu = cpuSeconds(_redis.pid()) - cpu0[2];
    for (int node : { A, B }) {
        printResult(QStringLiteral("cluster/%1").arg(QLatin1String(_names[node])), QStringLiteral("steady"),
                    results[node], cpuSeconds(_nodes[node].pid()) - cpu0[node]);
    }
    const quint64 heartbeatsAcked = results[A].completed + results[B].completed;
    _steadyRate = double(heartbeatsAcked) / seconds;
    _commandsPerHeartbeat = heartbeatsAcked ? double(commands.node) / double(heartbeatsAcked) : 0;
    _internalPerHeartbeat = heartbeatsAcked ? double(commands.internal) / double(heartbeatsAcked) : 0;
    std::printf("  steady %.0f s: %llu heartbeats answered, Redis received %llu commands from the nodes (%s) "
                "= %.4f per heartbeat; their scripts ran %llu more inside Redis (%.4f per heartbeat); "
                "Redis CPU %.1f %%; node reconnects %lld\n",
                seconds, (unsigned long long)heartbeatsAcked, (unsigned long long)commands.node,
                qPrintable(commands.describe()), _commandsPerHeartbeat, (unsigned long long)commands.internal,
                _internalPerHeartbeat, 100 * redisCpu / seconds, _redis.nodeConnections() - connections0);
    std::printf("result cluster/redis steady heartbeats=%llu cmds_per_hb=%.4f internal_per_hb=%.4f redis_cpu=%.3f\n",
                (unsigned long long)heartbeatsAcked, _commandsPerHeartbeat, _internalPerHeartbeat, redisCpu / seconds);
    return heartbeatsAcked > 0;
}

bool ClusterRun::crossQueries() {
    // Queries for node a's domains, alternately at a (the owner: the single-node path) and at b
    // (a Redis lookup, the answer from b, a PUBLISH to a, a's packet to the domain). Five pairs,
    // so a burst of load from the rest of the machine hits both sides.
    progress("queries at the owning and at the other node");
    for (BenchClient &client : _clients) {
        client.discardPending();
    }
    const double seconds = _options.saturateSeconds;
    QMap<QString, quint64> crossCalls0, crossCalls;
    quint64 crossAnswers = 0;
    for (int round = 0; round < 5; ++round) {
        double cpu0 = cpuSeconds(_nodes[A].pid());
        const BenchResult owner = _clients[A].closedLoop(queries(), BenchClient::QuerySockets, seconds,
                                                         _options.window);
        printResult(QStringLiteral("cluster/owner"), QStringLiteral("query"), owner,
                    cpuSeconds(_nodes[A].pid()) - cpu0);
        std::printf("    peer information delivered to the domains: %llu (%.2f per answer)\n",
                    (unsigned long long)owner.other, owner.completed ? double(owner.other) / owner.completed : 0.0);

        const double crossCpu0[3] = { cpuSeconds(_nodes[A].pid()), cpuSeconds(_nodes[B].pid()),
                                      cpuSeconds(_redis.pid()) };
        const QMap<QString, quint64> calls0 = _redis.commandCalls();
        BenchResult cross, domains;
        // a's client only listens (rate 0): it counts what a sends to the domains' sockets.
        together(
            [&] { domains = _clients[A].paced(queries(), BenchClient::QuerySockets, 0, seconds + 0.3, 0.2); },
            [&] { cross = _clients[B].closedLoop(queries(), BenchClient::QuerySockets, seconds, _options.window); });
        const QMap<QString, quint64> calls1 = _redis.commandCalls();
        const double cpuA = cpuSeconds(_nodes[A].pid()) - crossCpu0[0];
        const double cpuB = cpuSeconds(_nodes[B].pid()) - crossCpu0[1];
        const double cpuRedis = cpuSeconds(_redis.pid()) - crossCpu0[2];
        printResult(QStringLiteral("cluster/cross"), QStringLiteral("query"), cross, cpuB);
        const double per = cross.completed ? 1e6 / double(cross.completed) : 0;
        const Commands commands(calls0, calls1);
        std::printf("    peer information delivered to the domains by node a: %llu (%.2f per answer); CPU-us per "
                    "answer: node b %.2f, node a %.2f, Redis %.2f; Redis commands %s (%.2f per answer)\n",
                    (unsigned long long)domains.other, cross.completed ? double(domains.other) / cross.completed : 0.0,
                    cpuB * per, cpuA * per, cpuRedis * per, qPrintable(commands.describe()),
                    cross.completed ? double(commands.node) / double(cross.completed) : 0.0);
        _ownerRates.append(owner.rate());
        _crossRates.append(cross.rate());
        _ratios.append(owner.rate() > 0 ? cross.rate() / owner.rate() : 0);
        crossAnswers += cross.completed;
        _commandsPerCrossQuery += double(commands.node);
        std::printf("result cluster/ratio query cross_over_owner=%.4f\n", _ratios.last());
    }
    _commandsPerCrossQuery = crossAnswers ? _commandsPerCrossQuery / double(crossAnswers) : 0;
    return true;
}

void ClusterRun::latency(double rate, const QString &label) {
    for (BenchClient &client : _clients) {
        client.discardPending();
    }
    const double seconds = _options.latencySeconds;
    double cpu0 = cpuSeconds(_nodes[A].pid());
    const BenchResult owner = _clients[A].paced(queries(), BenchClient::QuerySockets, rate, seconds);
    printResult(QStringLiteral("cluster/owner"), QStringLiteral("query@") + label, owner,
                cpuSeconds(_nodes[A].pid()) - cpu0);
    cpu0 = cpuSeconds(_nodes[B].pid());
    const BenchResult cross = _clients[B].paced(queries(), BenchClient::QuerySockets, rate, seconds);
    printResult(QStringLiteral("cluster/cross"), QStringLiteral("query@") + label, cross,
                cpuSeconds(_nodes[B].pid()) - cpu0);
    if (label.endsWith(QLatin1Char('%'))) {
        _ownerLatency = owner;
        _crossLatency = cross;
        _latencyRate = rate;
    }
}

double median(QList<double> values) {
    if (values.isEmpty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const int n = int(values.size());
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void ClusterRun::summary() const {
    QStringList ratios;
    for (double r : _ratios) {
        ratios.append(QString::number(r, 'f', 3));
    }
    std::printf("summary (cluster: %d domains, half at each of 2 nodes, one Redis):\n", 2 * perNode());
    std::printf("  queries at a non-owning node: %.0f/s, at the owning node %.0f/s: ratio %.3f (median of pairs: %s)\n",
                median(_crossRates), median(_ownerRates), median(_ratios), qPrintable(ratios.join(", ")));
    std::printf("  cross-node query latency at %.0f/s (50 %% of the cross-node rate): p50 %.0f us, p99 %.0f us, "
                "lost %llu (owning node at the same rate: p50 %.0f us, p99 %.0f us)\n",
                _latencyRate, _crossLatency.p50Us, _crossLatency.p99Us, (unsigned long long)_crossLatency.lost,
                _ownerLatency.p50Us, _ownerLatency.p99Us);
    std::printf("  Redis commands per heartbeat, steady state at %.0f heartbeats/s: %.4f (goal <= 0.1); inside "
                "Redis with the scripts' own calls: %.4f more\n",
                _steadyRate, _commandsPerHeartbeat, _internalPerHeartbeat);
    std::printf("  Redis commands per cross-node query: %.2f\n", _commandsPerCrossQuery);
    std::printf("  Redis memory per registration: %.0f bytes (used_memory growth / records; MEMORY USAGE of one "
                "record %.0f bytes)\n",
                _memoryPerRecord, _recordUsage);
}

int ClusterRun::run() {
    if (!_redis.start(_options.redisPath)) {
        return 1;
    }
    std::printf("ice-bench --cluster: %d domains (%d at node a, %d at node b), %d client sockets per set and node, "
                "redis-server %s on 127.0.0.1:%u, %u CPUs shared by everything\n",
                2 * perNode(), perNode(), perNode(), _sockets, _redis.info("server", "redis_version").constData(),
                _redis.port(), std::thread::hardware_concurrency());
    if (!startNode(A) || !startNode(B)) {
        return 1;
    }
    _memoryBefore = _redis.info("memory", "used_memory").toLongLong();
    if (!registerDomains() || !steadyState() || !crossQueries()) {
        return 1;
    }
    latency(1000, QStringLiteral("1000/s"));
    latency(median(_crossRates) / 2, QStringLiteral("50%"));
    summary();
    progress("done; stopping the nodes and Redis");
    return 0;
}
} // namespace

int runClusterBench(const BenchOptions &options, const Workload &work, const QString &keysDir) {
    ClusterRun run(options, work, keysDir);
    return run.run();
}
