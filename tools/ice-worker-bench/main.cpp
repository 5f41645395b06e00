// ice-worker-bench: the ice-server's request handling without sockets. One IceServer worker per
// thread, as `ice-server --threads N` runs them, all over one shared domain table, each fed its own
// domains' repeated heartbeats (and queries for domains another thread registered) straight into
// processDatagram, answers counted by a transport that sends nothing. It measures what the kernel
// hides in ice-bench's figures: the user-space CPU per request, and whether it grows when threads
// share the table (lock convoys, cache lines moving between cores). Each thread's CPU time comes
// from CLOCK_THREAD_CPUTIME_ID. See BENCHMARKS.md.
#include "Workload.h"

#include <DomainKeyStore.h>
#include <IceServer.h>
#include <KeyDirectory.h>
#include <UdpTransport.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

namespace {
// Answers go nowhere; counting them proves each request was handled, not dropped.
class CountingTransport : public UdpTransport {
public:
    qint64 writeDatagram(const QByteArray &datagram, const IpEndpoint &, int) override {
        ++sent;
        return datagram.size();
    }
    IpEndpoint localSocket() const override { return IpEndpoint(QHostAddress(QHostAddress::LocalHost), 7337); }
    bool isBound() const override { return true; }
    bool rebindToFreshPort() override { return false; }
    quint64 sent = 0;
};

double threadCpuSeconds() {
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// Domain i always heartbeats from the same source (as one domain always comes from one socket)
// and belongs to thread i % threads, as SO_REUSEPORT keeps a source on one socket.
IpEndpoint domainSource(int index) {
    return IpEndpoint(QHostAddress(quint32(0x7f000000u + 1u + quint32(index >> 14))),
                      quint16(20000 + (index & 0x3fff)));
}

struct Request {
    QByteArray datagram;
    IpEndpoint sender;
};

struct Result {
    quint64 handled = 0;
    quint64 answers = 0;
    double cpuSeconds = 0;
};

// One worker: its IceServer lives on its own thread and handles its requests in a loop.
class Worker : public QThread {
public:
    Worker(DomainKeyStore *keys, const IceServerSettings &settings, const IceServerShared &shared,
           std::vector<Request> requests, const std::atomic<bool> *go, const std::atomic<bool> *stop)
        : _keys(keys), _settings(settings), _shared(shared), _requests(std::move(requests)), _go(go), _stop(stop) {}
    Result result;

protected:
    void run() override {
        CountingTransport transport;
        IceServer server(&transport, _keys, _settings, _shared, {}, nullptr);
        while (!_go->load(std::memory_order_acquire)) {
            QThread::yieldCurrentThread();
        }
        const double cpuStart = threadCpuSeconds();
        quint64 handled = 0;
        while (!_stop->load(std::memory_order_relaxed)) {
            for (const Request &request : _requests) {
                server.processDatagram(request.datagram, request.sender);
            }
            handled += _requests.size();
        }
        result.cpuSeconds = threadCpuSeconds() - cpuStart;
        result.handled = handled;
        result.answers = transport.sent;
    }

private:
    DomainKeyStore *_keys;
    IceServerSettings _settings;
    IceServerShared _shared;
    std::vector<Request> _requests;
    const std::atomic<bool> *_go;
    const std::atomic<bool> *_stop;
};

struct Options {
    int domains = 10000;
    QList<int> threads { 1, 2 };
    double seconds = 3;
    int runs = 3;
    QStringList kinds { QStringLiteral("heartbeat"), QStringLiteral("query") };
};

// Runs `threads` workers for opts.seconds on one fresh table; returns CPU-ns per request (the
// median over threads is not needed: every thread does the same work) and the total rate.
bool measure(const Workload &workload, DomainKeyStore *keys, const QString &kind, int threads, const Options &opts,
             double *nsPerRequest, double *ratePerSecond) {
    IceServerSettings settings;
    settings.rateLimit.packetsPerSecond = 0; // as ice-bench runs the server: the bench is one source
    settings.peerTimeoutMs = 600000;
    settings.sweepIntervalMs = 0;
    const IceServerShared shared = IceServerShared::create(settings, threads);

    // Register every domain once from its source (the RSA verify happens here, untimed).
    {
        CountingTransport transport;
        IceServer registrar(&transport, keys, settings, shared, {}, nullptr);
        for (int i = 0; i < opts.domains; ++i) {
            registrar.processDatagram(workload.heartbeats[i], domainSource(i));
        }
        if (shared.peers->size() != opts.domains) {
            std::fprintf(stderr, "ice-worker-bench: %d of %d domains registered\n", int(shared.peers->size()),
                         opts.domains);
            return false;
        }
    }

    std::vector<std::vector<Request>> perThread(static_cast<size_t>(threads));
    for (int i = 0; i < opts.domains; ++i) {
        const int owner = i % threads;
        if (kind == QLatin1String("heartbeat")) {
            perThread[size_t(owner)].push_back({ workload.heartbeats[i], domainSource(i) });
        } else {
            // A query arrives at the thread after the one that holds the domain's heartbeats: the
            // two must meet in the shared table, as in tst_icethreads.
            const int asker = (owner + 1) % threads;
            const QUuid clientID(0xc11e0000u + quint32(i), 0, 0x4000, 0x80, 0, 0, 0, 0, 0, 0, 2);
            perThread[size_t(asker)].push_back(
                { Workload::query(clientID, workload.domainIDs[i]),
                  IpEndpoint(QHostAddress(QStringLiteral("127.0.0.200")), quint16(30000 + i % 4)) });
        }
    }

    std::atomic<bool> go { false };
    std::atomic<bool> stop { false };
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back(new Worker(keys, settings, shared, std::move(perThread[size_t(t)]), &go, &stop));
        workers.back()->start();
    }
    go.store(true, std::memory_order_release);
    QThread::usleep(qulonglong(opts.seconds * 1e6));
    stop.store(true);
    quint64 handled = 0;
    double cpu = 0;
    for (auto &worker : workers) {
        worker->wait();
        const Result &r = worker->result;
        const quint64 expected = kind == QLatin1String("heartbeat") ? r.handled : 2 * r.handled;
        if (r.answers != expected) {
            std::fprintf(stderr, "ice-worker-bench: %llu %ss handled but %llu answers (expected %llu)\n",
                         (unsigned long long)r.handled, qPrintable(kind), (unsigned long long)r.answers,
                         (unsigned long long)expected);
            return false;
        }
        handled += r.handled;
        cpu += r.cpuSeconds;
    }
    *nsPerRequest = cpu * 1e9 / double(handled);
    *ratePerSecond = double(handled) / opts.seconds;
    return true;
}

bool parse(const QCoreApplication &app, Options *opts) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measures the ice-server's request handling without sockets: user-space CPU per repeated heartbeat and "
        "per query with 1..N worker threads sharing one domain table."));
    parser.addHelpOption();
    parser.addOptions({
        { "domains", "Registered domains (default 10000).", "N", "10000" },
        { "threads", "Worker counts to measure, in order (default 1,2).", "LIST", "1,2" },
        { "seconds", "Seconds per measurement (default 3).", "S", "3" },
        { "runs", "Measurements per kind and worker count; the median is reported (default 3).", "N", "3" },
        { "kinds", "Request kinds, of heartbeat,query (default both).", "LIST", "heartbeat,query" },
    });
    parser.process(app);
    bool ok = true;
    opts->domains = parser.value("domains").toInt(&ok);
    if (!ok || opts->domains < 1) {
        std::fprintf(stderr, "ice-worker-bench: --domains wants a count >= 1\n");
        return false;
    }
    opts->threads.clear();
    for (const QString &value : parser.value("threads").split(',', Qt::SkipEmptyParts)) {
        const int n = value.toInt(&ok);
        if (!ok || n < 1 || n > 64) {
            std::fprintf(stderr, "ice-worker-bench: --threads wants counts from 1 to 64, not '%s'\n",
                         qPrintable(value));
            return false;
        }
        opts->threads.append(n);
    }
    opts->seconds = parser.value("seconds").toDouble(&ok);
    if (!ok || opts->seconds <= 0) {
        std::fprintf(stderr, "ice-worker-bench: --seconds wants a positive number\n");
        return false;
    }
    opts->runs = parser.value("runs").toInt(&ok);
    if (!ok || opts->runs < 1) {
        std::fprintf(stderr, "ice-worker-bench: --runs wants a count >= 1\n");
        return false;
    }
    opts->kinds = parser.value("kinds").split(',', Qt::SkipEmptyParts);
    for (const QString &kind : qAsConst(opts->kinds)) {
        if (kind != QLatin1String("heartbeat") && kind != QLatin1String("query")) {
            std::fprintf(stderr, "ice-worker-bench: --kinds takes heartbeat and query, not '%s'\n", qPrintable(kind));
            return false;
        }
    }
    return !opts->threads.isEmpty() && !opts->kinds.isEmpty();
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    // Every registration would log a line; only warnings matter here.
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\n*.info=false"));
    Options opts;
    if (!parse(app, &opts)) {
        return 2;
    }
    Workload workload;
    QString error;
    QTemporaryDir keyDir;
    if (!keyDir.isValid() || !workload.prepare(opts.domains, 2, &error)
        || !workload.writeKeyFiles(keyDir.path(), &error)) {
        std::fprintf(stderr, "ice-worker-bench: %s\n", qPrintable(error.isEmpty() ? keyDir.errorString() : error));
        return 1;
    }
    KeyDirectory directory(keyDir.path(), 0);
    if (!directory.start(&error)) {
        std::fprintf(stderr, "ice-worker-bench: %s\n", qPrintable(error));
        return 1;
    }
    DomainKeyStore keys(&directory, nullptr, KeyFetchSettings());

    std::printf("ice-worker-bench: %d domains, %g s per measurement, median of %d, %d CPUs\n", opts.domains,
                opts.seconds, opts.runs, QThread::idealThreadCount());
    for (const QString &kind : qAsConst(opts.kinds)) {
        double baseline = 0;
        for (int threads : qAsConst(opts.threads)) {
            std::vector<double> ns, rates;
            for (int run = 0; run < opts.runs; ++run) {
                double n = 0, rate = 0;
                if (!measure(workload, &keys, kind, threads, opts, &n, &rate)) {
                    return 1;
                }
                ns.push_back(n);
                rates.push_back(rate);
            }
            std::sort(ns.begin(), ns.end());
            std::sort(rates.begin(), rates.end());
            const double medianNs = ns[ns.size() / 2];
            const double medianRate = rates[rates.size() / 2];
            if (baseline == 0) {
                baseline = medianNs;
            }
            std::printf("  %-9s %2d thread%s  %7.0f CPU-ns/request (runs %.0f..%.0f)  %10.0f requests/s  %.2f x "
                        "the first count's CPU per request\n",
                        qPrintable(kind), threads, threads == 1 ? " " : "s", medianNs, ns.front(), ns.back(),
                        medianRate, medianNs / baseline);
            std::printf("result %s threads=%d cpu_ns=%.1f rate=%.0f\n", qPrintable(kind), threads, medianNs,
                        medianRate);
        }
    }
    return 0;
}
